"""The Flask extensions, created unbound here and bound to an app in ``create_app``.

Modules import these objects rather than the app, which keeps import cycles away and lets
tests build as many apps as they like.
"""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from dispatch.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
socketio = SocketIO()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
