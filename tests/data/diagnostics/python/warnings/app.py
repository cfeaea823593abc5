import datetime
import warnings


def legacy_total(items):
    warnings.warn("legacy_total is deprecated, use total", DeprecationWarning, stacklevel=2)
    return sum(items)


print("started at", datetime.datetime.utcnow().year > 2000)
print(legacy_total([1, 2]))
