# The deployment tests' file store and the running deployment of deploy/ (fixtures.py),
# and the S3 server an S3 store uses (tests/s3.py).
from tests.reliability.fixtures import deployment, storage  # noqa: F401
from tests.s3 import moto_server_fixture  # noqa: F401
