def ready():
    return True

def serve():
    x = 1
      y = 2
    return x + y
