"""The production entry point: ``gunicorn --worker-class gevent dispatch.wsgi:app``.

gevent, not threading: each tablet and console holds a websocket all night, and a greenlet per
connection costs kilobytes where a thread costs a stack and a scheduler slot. eventlet is
deprecated. gunicorn's gevent worker monkey-patches the standard library before this module is
imported; Flask-SocketIO then serves websockets through simple-websocket. The address search's
index is built in the background from the start (``register.index_files``).
"""

import os

os.environ.setdefault("SOCKETIO_ASYNC_MODE", "gevent")

from dispatch import create_app  # noqa: E402  (the async mode must be chosen first)
from dispatch.core.realtime import start_upkeep  # noqa: E402
from dispatch.register.index_files import start_warming  # noqa: E402

app = create_app()
start_upkeep(app)  # the timed work every web process does (the acknowledgement timer)
start_warming(app)  # the address search's index, built in the background (issue 17)
