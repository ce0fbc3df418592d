"""Filter `papermill --log-output` for the terminal of `make demo`: keep what the notebook prints (data generation,
one line per epoch with loss, validation AUC, embedding spread and images/s, warnings, the results table), drop
papermill's bookkeeping lines and the log prefix."""
import re, sys

PREFIX = re.compile(r"^\S+ \S+ - papermill - \w+ - ")
DROP = re.compile(r"^(Executing Cell \d+-+|Ending Cell \d+-+|Executing notebook with kernel|Input Notebook:|Output Notebook:|"
                  r"Working directory:|Black is not installed|\[IPKernelApp\] WARNING \| Kernel is running over TCP|\s*$)")

def main() -> None:
    for line in sys.stdin:
        text = PREFIX.sub("", line.rstrip("\n"))
        if DROP.match(text): continue
        print(text, flush=True)

if __name__ == "__main__":
    main()
