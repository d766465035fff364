"""Bare extension instances, bound to the app in create_app with init_app."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_session import Session
from flask_wtf.csrf import CSRFProtect

from portal.database import db  # noqa: F401  (bound in create_app with the other extensions)

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
server_session = Session()
limiter = Limiter(key_func=get_remote_address)
