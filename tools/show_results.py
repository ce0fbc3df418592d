"""Print the results table of a `nbs/train.ipynb` run (its `results.json`) and where its files are: per model the clean
tuned F1, F1 at 0.5, AUC, the all-positive F1 and the at-chance verdict.

    .venv/bin/python tools/show_results.py runs/demo/results.json
"""
import json, sys
from pathlib import Path
import pandas as pd

def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: show_results.py RESULTS_JSON", file=sys.stderr); return 2
    path = Path(argv[0])
    try: res = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        print(f"show_results.py: cannot read {path}: {e}", file=sys.stderr); return 1
    table = pd.DataFrame(res["table"]).set_index(res["table"][0] and next(iter(res["table"][0])))
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.1f}".format):
        print(f"\n{res['dataset']} fold {res['fold']}, seed {res['seed']}, {res['preset']} preset "
              f"({res['seconds'] / 60:.1f} min):")
        print(table.to_string())
    out = Path(res["out_dir"])
    print(f"\nexecuted notebook: {out / 'train.ipynb'}\nresults:           {out / 'results.json'}\n"
          f"learning curves:   {out / 'loss_curves.html'}\nrun folders:       " +
          ", ".join(str(out / m) for m in ("aunce", "wce", "supcon") if (out / m).exists()))
    return 0

if __name__ == "__main__":
    sys.exit(main())
