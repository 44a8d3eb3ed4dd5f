"""The playground: a web page where gradient descent is done by hand and watched.

Two labs on one page, both driven by descent's own engine (the page only draws):

- the learning-rate lab runs ``descent.minimize`` on a preset or typed function, one
  STEP at a time, with gradient descent, momentum or Adam, and random restarts;
- the model lab trains descent's estimators on small 2-D data sets and streams each
  epoch's loss, decision heatmap and weights to the page.

``create_app()`` builds the FastAPI application; ``serve()`` runs it with uvicorn (the
``descent playground`` command). The HTTP API is described in docs/playground.md.
"""

from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
