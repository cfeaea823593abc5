def handle(request):
    body = request.body
    return {"status": 200, "body": body}}
