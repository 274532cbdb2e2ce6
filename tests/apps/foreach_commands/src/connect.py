"""$connect: every client may connect."""


def handler(event, context):
    return {"statusCode": 200}
