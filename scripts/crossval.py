#!/usr/bin/python3
"""Cross-validated J&F of the tracker over DAVIS-layout sequences, in one command.

The sequences are split into folds by sequence (the sorted names dealt round-robin: sequence i
goes to fold i mod K). Every candidate setting (the product of the --grid values; the defaults
alone without --grid) runs once on every sequence through flagmask-eval. For each fold, the
candidate with the best mean J&F on the other folds is chosen, and the fold's sequences are scored
with it. The cross-validated J&F is the mean of those held-out scores over all sequences: a
setting is never scored on a sequence it was chosen on.

  scripts/crossval.py [--davis ROOT] [--imageset FILE ...] [--seq NAME ...] [--folds K]
                      [--grid 'OPTION=V1,V2,...' ...] [--per-fold 'OPTION=PATTERN' ...]
                      [--eval PATH] [--cache DIR] [--csv FILE]

Defaults: --davis $FLAGMASK_DAVIS or ../shared/data/DAVIS beside the source tree; the image sets
ImageSets/480p/dev.txt and ImageSets/480p/train.txt (every sequence they list, once); 3 folds;
flagmask-eval from ${BUILD_DIR:-build}. OPTION is a flagmask-eval option without its dashes
(hysteresis, adapt-rate, working-size, ...). --cache DIR keeps each candidate's per-sequence
scores there and reuses them (delete it after changing the tracker).

--per-fold OPTION=PATTERN gives each fold's sequences their own value of an option, PATTERN with
{fold} replaced by the fold's number: a file trained without that fold, such as
--per-fold 'network=nets/fold{fold}.onnx' from scripts/train_network.py --fold I. Then every
sequence is scored by a network that never saw it (with a --grid as well, the choice among its
candidates for a fold reads scores of networks that saw that fold). The last line reads
`cross-validated J&F=... J=... F=... over N sequences in K folds (dev J&F=...)`.
Exit status: 0 done, 1 a run failed, 2 bad command line.
"""

import argparse
import csv
import hashlib
import itertools
import os
import subprocess
import sys
import tempfile

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SETS = ["ImageSets/480p/dev.txt", "ImageSets/480p/train.txt"]
DEV_SET = "ImageSets/480p/dev.txt"


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Cross-validated J&F over DAVIS-layout sequences (see the module text).")
    p.add_argument("--davis", default=os.environ.get("FLAGMASK_DAVIS") or
                   os.path.join(SOURCE_ROOT, "..", "shared", "data", "DAVIS"))
    p.add_argument("--imageset", action="append", default=[],
                   help="image set listing sequences (repeatable; relative to the DAVIS root)")
    p.add_argument("--seq", action="append", default=[], help="a sequence (repeatable)")
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--grid", action="append", default=[],
                   help="OPTION=V1,V2,...: values of a flagmask-eval option to choose among")
    p.add_argument("--per-fold", action="append", default=[],
                   help="OPTION=PATTERN: the option's value for fold I is PATTERN with {fold} = I")
    p.add_argument("--eval", default=os.path.join(
        SOURCE_ROOT, os.environ.get("BUILD_DIR", "build"), "src", "tools", "flagmask-eval"))
    p.add_argument("--cache", help="folder keeping each candidate's per-sequence scores")
    p.add_argument("--csv", help="write the held-out score of every sequence here")
    return p.parse_args(argv)


def image_set(root, name):
    """Sequence names of a DAVIS image set, in order of first appearance."""
    path = name if os.path.isabs(name) else os.path.join(root, name)
    names = []
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            first = words[0].rstrip("/")
            seq = os.path.basename(os.path.dirname(first)) if "/" in first else first
            if seq not in names:
                names.append(seq)
    return names


def choose_sequences(args):
    if args.seq:
        return sorted(set(args.seq))
    names = set()
    for s in args.imageset or DEFAULT_SETS:
        names.update(image_set(args.davis, s))
    return sorted(names)


def candidates(grid):
    """Every combination of the grid's values, as lists of (option, value)."""
    axes = []
    for spec in grid:
        option, _, values = spec.partition("=")
        if not option or not values:
            raise SystemExit(f"crossval: --grid needs OPTION=V1,V2,..., got '{spec}'")
        axes.append([(option.strip(), v.strip()) for v in values.split(",") if v.strip()])
    return [list(c) for c in itertools.product(*axes)] if axes else [[]]


def describe(candidate):
    return " ".join(f"--{o} {v}" for o, v in candidate) or "(defaults)"


def file_digest(path):
    """What a per-fold file holds, so the cache notices a retrained one."""
    if not os.path.isfile(path):
        return path
    with open(path, "rb") as f:
        return hashlib.sha1(f.read()).hexdigest()


def run_eval(args, options, sequences, table, label):
    cmd = [args.eval, "--davis", args.davis, "--csv", table]
    for seq in sequences:
        cmd += ["--seq", seq]
    for option, value in options:
        cmd += [f"--{option}", value]
    print(f"crossval: running {label}", file=sys.stderr, flush=True)
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(f"crossval: flagmask-eval failed ({done.returncode}): {' '.join(cmd)}")


def fold_runs(args, candidate, sequences):
    """(options, sequences) of each flagmask-eval run a candidate needs: one over all sequences,
    or one per fold when an option's value depends on the fold."""
    if not args.per_fold:
        return [(candidate, sequences)]
    runs = []
    for k in range(args.folds):
        extra = []
        for spec in args.per_fold:
            option, _, pattern = spec.partition("=")
            extra.append((option.strip(), pattern.strip().replace("{fold}", str(k))))
        part = [s for i, s in enumerate(sequences) if i % args.folds == k]
        runs.append((candidate + extra, part))
    return runs


def run_candidate(args, candidate, sequences, cache):
    """Per-sequence (J, F) of one candidate, from the cache or from flagmask-eval runs."""
    scores = {}
    for options, part in fold_runs(args, candidate, sequences):
        text = describe(options) + "|" + ",".join(part)
        text += "|" + ",".join(file_digest(v) for _, v in options)
        key = hashlib.sha1(text.encode()).hexdigest()[:12]
        table = os.path.join(cache, f"{key}.csv")
        if not os.path.exists(table):
            run_eval(args, options, part, table, describe(options))
        with open(table) as f:
            for r in csv.DictReader(f):
                scores[r["sequence"]] = (float(r["J"]), float(r["F"]))
    return scores


def mean(values):
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def jf(score):
    return (score[0] + score[1]) / 2


def cross_validate(scores, sequences, folds):
    """For each fold, the candidate best on the other folds; the held-out (J, F) per sequence."""
    fold_of = {s: i % folds for i, s in enumerate(sequences)}
    chosen, held_out = [], {}
    for k in range(folds):
        train = [s for s in sequences if fold_of[s] != k]
        best = max(range(len(scores)), key=lambda c: mean(jf(scores[c][s]) for s in train))
        chosen.append(best)
        for s in sequences:
            if fold_of[s] == k:
                held_out[s] = (scores[best][s], best, k)
    return chosen, held_out


def report(args, cands, scores, sequences, chosen, held_out):
    for c, cand in enumerate(cands):
        print(f"candidate {c}: {describe(cand)}  mean J&F={mean(jf(scores[c][s]) for s in sequences):.4f}")
    for k, c in enumerate(chosen):
        print(f"fold {k}: chose candidate {c} on the other folds")
    for s in sequences:
        score, c, k = held_out[s]
        print(f"{s:22s} fold {k} candidate {c} J={score[0]:.3f} F={score[1]:.3f} J&F={jf(score):.3f}")
    lowest = min(sequences, key=lambda s: jf(held_out[s][0]))
    dev = set(image_set(args.davis, DEV_SET)) if os.path.exists(os.path.join(args.davis, DEV_SET)) else set()
    dev_line = ""
    if dev & set(sequences):
        dev_line = f" (dev J&F={mean(jf(held_out[s][0]) for s in sequences if s in dev):.4f})"
    print(f"lowest: {lowest} J&F={jf(held_out[lowest][0]):.3f}")
    print(f"cross-validated J&F={mean(jf(held_out[s][0]) for s in sequences):.4f} "
          f"J={mean(held_out[s][0][0] for s in sequences):.4f} "
          f"F={mean(held_out[s][0][1] for s in sequences):.4f} "
          f"over {len(sequences)} sequences in {len(chosen)} folds{dev_line}")


def write_csv(path, sequences, held_out):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sequence", "fold", "candidate", "J", "F", "JF"])
        for s in sequences:
            score, c, k = held_out[s]
            w.writerow([s, k, c, f"{score[0]:.6f}", f"{score[1]:.6f}", f"{jf(score):.6f}"])


def main(argv):
    args = parse_args(argv)
    sequences = choose_sequences(args)
    if args.folds < 2 or args.folds > len(sequences):
        raise SystemExit(f"crossval: --folds must be from 2 to the {len(sequences)} sequences")
    cands = candidates(args.grid)
    with tempfile.TemporaryDirectory() as scratch:
        cache = args.cache or scratch
        os.makedirs(cache, exist_ok=True)
        scores = [run_candidate(args, c, sequences, cache) for c in cands]
    chosen, held_out = cross_validate(scores, sequences, args.folds)
    report(args, cands, scores, sequences, chosen, held_out)
    if args.csv:
        write_csv(args.csv, sequences, held_out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
