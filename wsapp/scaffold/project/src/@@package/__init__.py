"""@@package: a WebSocket API on API Gateway and AWS Lambda, built on wsapp (actions in ``actions.py``)."""
