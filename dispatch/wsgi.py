"""The production entry point: ``gunicorn --worker-class gevent dispatch.wsgi:app``.

gevent, not threading: each tablet and console holds a websocket all night, and a greenlet per
connection costs kilobytes where a thread costs a stack and a scheduler slot. eventlet is
deprecated. gunicorn's gevent worker monkey-patches the standard library before this module is
imported; Flask-SocketIO then serves websockets through simple-websocket. The address search's
index is built in the background from the start (``register.index_files``).

Once the app is made, what start-up left (a quarter of a million objects: SQLAlchemy's
mappers, Babel's catalogues, the routes) is moved out of the garbage collector's reach
(``gc.freeze``): it lives as long as the process, and every full collection would walk it
again, a pause of every greenlet (every tablet and request of this process) that grows with
it (issue 12: full collections of 150-250 ms CPU with 700 tablets on a worker). And the
young generations are collected less often (``gc.set_threshold``): every young collection
promotes what happens to be alive at that moment (a ping awaiting its pong, a request's
rows) towards the old generation, and that churn, not growth, set off a full collection of
~0.4-0.6 s every ~15-30 s in a worker holding 3,300 tablets (``bench/cluster_load.py
--gc-log``). Cyclic garbage is still collected, in larger, rarer young collections.
"""

import gc
import os

os.environ.setdefault("SOCKETIO_ASYNC_MODE", "gevent")

from dispatch import create_app  # noqa: E402  (the async mode must be chosen first)
from dispatch.core.realtime import start_upkeep  # noqa: E402
from dispatch.register.index_files import start_warming  # noqa: E402

app = create_app()
start_upkeep(app)  # the timed work every web process does (the acknowledgement timer)
start_warming(app)  # the address search's index, built in the background (issue 17)
gc.collect()
gc.freeze()  # start-up's objects stay for the process's life: no collection walks them again
gc.set_threshold(10_000, 20, 20)  # (700, 10, 10) by default: see the module's text
