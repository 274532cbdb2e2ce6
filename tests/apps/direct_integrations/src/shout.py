"""Gets the payload the request template made (not a proxy event) and answers with plain JSON."""


def handler(event, context):
    words = event["words"]
    if any(w.lower() == "shh" for w in words):
        raise ValueError("asked to be quiet")
    return {"loud": " ".join(w.upper() for w in words) + "!", "count": event["count"], "who": event["who"]}
