def compute(values):
    total = 0
    for v in values
        total += v
    return total
