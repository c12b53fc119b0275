import json
import resource


def report(name, **extra):
    status = open("/proc/self/status").read()
    print(json.dumps({"phase": name, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "rss_end_mb": int(status.split("VmRSS:")[1].split()[0]) / 1024, **extra}), flush=True)
