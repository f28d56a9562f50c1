#!/usr/bin/env python3
"""What a site's own labels are worth: YouTube leave-one-video-out, with and without some of
the held-out video's comments labelled.

For each video, a stratified share of its comments (``--fractions``) plays the part of the
labels a site exports with ``commentguard labels``, under a source of its own as an export
writes it (the site's id, here ``site-<video>``), with the page it was posted on as its
``permalink``, which an export keeps. The rest of the video is the test set.
Two models are scored on that same test set:

- *without*: trained on the other four videos only, as in ``eval --by-source``;
- *with*: trained on the other four videos plus the labelled share.

The pooled spam F1 and MCC (spam = calibrated ``spam_probability >= 0.5``, as ``eval``
counts it) over the five videos are printed for each split seed, with the median. Only the
standard library is used; commentguard is built with ``cargo build --release --locked``.

    python3 bench/in_domain.py [--data FILE] [--fractions 0.1 0.2 0.5] [--seeds 3]
"""

import argparse
import json
import math
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def pooled(predictions):
    """Spam F1 and MCC over (is_spam, spam_probability) pairs."""
    tp = fp = fn = tn = 0
    for is_spam, probability in predictions:
        flagged = probability >= 0.5
        if flagged and is_spam:
            tp += 1
        elif flagged:
            fp += 1
        elif is_spam:
            fn += 1
        else:
            tn += 1
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    mcc = (tp * tn - fp * fn) / denominator if denominator else 0.0
    return f1, mcc


def split(comments, fraction, rng):
    """A stratified `fraction` of `comments` as labels; the rest as the test set."""
    labelled, test = [], []
    for label in ("spam", "ham"):
        of_class = [c for c in comments if c["label"] == label]
        rng.shuffle(of_class)
        k = round(fraction * len(of_class))
        labelled += of_class[:k]
        test += of_class[k:]
    return labelled, test


def pages():
    """The permalink of each video's page, from the pages file the evaluation uses."""
    with (REPO / "models/youtube-spam.pages").open() as lines:
        return dict(line.split() for line in lines if line.strip() and not line.startswith("#"))


def scored(binary, work, train, test):
    """(is_spam, spam_probability) of every `test` comment, trained on `train`."""
    for name, rows in (("train", train), ("test", test)):
        (work / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    predictions = work / "predictions.jsonl"
    subprocess.run(
        [binary, "eval", "--train", work / "train.jsonl", "--test", work / "test.jsonl",
         "--pages", REPO / "models/youtube-spam.pages", "--predictions", predictions],
        check=True, capture_output=True,
    )
    with predictions.open() as lines:
        return [(p["label"] == "spam", p["spam_probability"]) for p in map(json.loads, lines)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path,
                        default=REPO.parent / "shared/datasets/youtube-spam/comments.jsonl")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.2, 0.5])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    if not all(0 < f < 1 for f in args.fractions):
        parser.error("each fraction must be between 0 and 1")

    subprocess.run(["cargo", "build", "--release", "--locked"], cwd=REPO, check=True)
    binary = REPO / "target/release/commentguard"
    with args.data.open() as lines:
        comments = [json.loads(line) for line in lines if line.strip()]
    videos = sorted({c["source"] for c in comments})
    permalink = pages()

    print("| labelled share | labels per video | seed | F1 without | F1 with "
          "| MCC without | MCC with |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    medians = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for fraction in args.fractions:
            gains = []
            for seed in range(1, args.seeds + 1):
                without, with_labels, n_labelled = [], [], 0
                for index, video in enumerate(videos):
                    rng = random.Random(seed * 1000 + index)
                    labelled, test = split([c for c in comments if c["source"] == video],
                                           fraction, rng)
                    site = "site-" + video.rsplit("/", 1)[-1]
                    labelled = [{**c, "source": site, "permalink": permalink[video]}
                                for c in labelled]
                    n_labelled += len(labelled)
                    others = [c for c in comments if c["source"] != video]
                    without += scored(binary, work, others, test)
                    with_labels += scored(binary, work, others + labelled, test)
                (f1_without, mcc_without), (f1_with, mcc_with) = pooled(without), pooled(with_labels)
                gains.append((mcc_without, mcc_with))
                print(f"| {fraction:.0%} | {n_labelled / len(videos):.0f} | {seed} "
                      f"| {f1_without:.3f} | {f1_with:.3f} | {mcc_without:.3f} | {mcc_with:.3f} |",
                      flush=True)
            medians.append((fraction, statistics.median(g[0] for g in gains),
                            statistics.median(g[1] for g in gains)))
    print()
    for fraction, without, with_labels in medians:
        print(f"{fraction:.0%} labelled: median MCC {without:.3f} without, {with_labels:.3f} with")
    return 0


if __name__ == "__main__":
    sys.exit(main())
