"""Code the app's functions share through a layer (``CommonLayer``, BuildMethod python3.12: on Lambda
this folder's content is /opt/python, on every function's sys.path)."""
