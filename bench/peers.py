#!/usr/bin/env python3
"""Peer comparison: commentguard against established spam filters on identical folds.

Every peer sees exactly the same train/test split of exactly the same records, and every
metric is computed here, by one function, from per-comment predictions and scores. That is
what makes the rows of the table comparable: no peer reports its own accuracy.

Experiments
  youtube  YouTube Spam Collection, leave-one-video-out (5 folds): trains on four videos,
           tests on the fifth, so the score says how well a filter carries over to a video
           whose comments it has never seen.
  sms      SMS Spam Collection, stratified 10-fold cross-validation with a fixed seed.

Peers
  bogofilter       the Debian package, bulk mode, a fresh word list per fold
  spamassassin     the Debian package: stock rules plus its Bayes classifier, trained per fold
  spamassassin-bayes  the same run's Bayes probability alone
  rspamd           the Debian package: stock rules plus its Bayes classifier on a fresh
                   Redis, trained per fold
  rspamd-bayes     the same run's Bayes probability alone
  sklearn-mnb      scikit-learn MultinomialNB on word counts (the textbook naive Bayes)
  linear-svm       LinearSVC on TF-IDF word 1-2-grams + char_wb 2-5-grams
  logistic-regr    LogisticRegression on the same TF-IDF features
  commentguard-text-only  `commentguard eval` from this repository, on the text alone
  commentguard     the same, with each comment placed on its page (`--pages`)

Run through `bench/peers`, which installs the dependencies and builds commentguard first.
Needs only the Python standard library, numpy and scikit-learn.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import email.utils
import hashlib
import json
import mailbox
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import sklearn
from sklearn import metrics as skm
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

REPO = Path(__file__).resolve().parent.parent
# The page each YouTube video's comments were posted on, for commentguard's `--pages`.
PAGES = REPO / "models" / "youtube-spam.pages"
SMS_SEED = 20261126
SMS_SPLITS = 10
VERDICTS = ("approve", "hold", "reject")


# --------------------------------------------------------------------------------------------
# Data and folds
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Record:
    """One labelled comment; `line` is kept so fold files hold the original bytes unchanged."""

    line: str
    id: str
    text: str
    is_spam: bool
    source: str


@dataclasses.dataclass
class Fold:
    """One train/test split together with the folder its files and peer state live in."""

    name: str
    train: list[Record]
    test: list[Record]
    dir: Path

    @property
    def train_path(self) -> Path:
        return self.dir / "train.jsonl"

    @property
    def test_path(self) -> Path:
        return self.dir / "test.jsonl"

    @property
    def y_test(self) -> np.ndarray:
        return np.array([r.is_spam for r in self.test], dtype=bool)


def load_records(path: Path) -> list[Record]:
    """Reads a dataset JSONL file, refusing bad labels and duplicate ids.

    Both would silently corrupt every peer's numbers, so they stop the run here.
    """
    records, seen = [], set()
    with path.open(encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            obj = json.loads(line)
            if obj["label"] not in ("spam", "ham"):
                raise ValueError(f"{path}:{lineno}: label {obj['label']!r} is neither spam nor ham")
            if obj["id"] in seen:
                raise ValueError(f"{path}:{lineno}: duplicate id {obj['id']!r}")
            seen.add(obj["id"])
            records.append(
                Record(line, obj["id"], obj["text"], obj["label"] == "spam", obj["source"])
            )
    return records


def youtube_folds(records: list[Record], work: Path) -> list[Fold]:
    """Leave-one-video-out: a fold per video, in the order the videos appear in the file."""
    videos = list(dict.fromkeys(r.source.split("/", 1)[-1] for r in records))
    folds = []
    for i, video in enumerate(videos, 1):
        test = [r for r in records if r.source.split("/", 1)[-1] == video]
        train = [r for r in records if r.source.split("/", 1)[-1] != video]
        folds.append(Fold(f"{i:02d}-{video}", train, test, work / f"{i:02d}-{video}"))
    return folds


def sms_folds(records: list[Record], work: Path) -> list[Fold]:
    """Stratified k-fold with a fixed seed, so every peer and every rerun gets the same splits."""
    y = np.array([r.is_spam for r in records])
    splitter = StratifiedKFold(n_splits=SMS_SPLITS, shuffle=True, random_state=SMS_SEED)
    folds = []
    for i, (train_idx, test_idx) in enumerate(splitter.split(np.zeros(len(y)), y), 1):
        folds.append(
            Fold(
                f"fold-{i:02d}",
                [records[j] for j in train_idx],
                [records[j] for j in test_idx],
                work / f"fold-{i:02d}",
            )
        )
    return folds


def write_fold(fold: Fold) -> None:
    """Lays the fold out on disk from scratch.

    Starting from an empty folder matters for bogofilter: registering into a word list left
    over from an earlier run would count every training message twice.
    """
    if fold.dir.exists():
        shutil.rmtree(fold.dir)
    fold.dir.mkdir(parents=True)
    for path, records in ((fold.train_path, fold.train), (fold.test_path, fold.test)):
        path.write_text("".join(r.line + "\n" for r in records), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Peers
# --------------------------------------------------------------------------------------------


class PeerError(RuntimeError):
    """A peer could not produce predictions for a fold."""


@dataclasses.dataclass
class PeerOutput:
    """What a peer returns for one fold, aligned with `fold.test`."""

    predicted_spam: np.ndarray  # bool
    score: np.ndarray  # float, higher = more spammy; used only for ROC AUC
    verdicts: list[str] | None = None  # commentguard's three-way decision
    comments_per_second: float | None = None


def run_tool(cmd: list[str], *, cwd: Path | None = None, stdin=None, timeout: float = 600):
    """Runs an external program; a missing binary or a hang becomes a PeerError so the peer's
    row reports it instead of the whole run dying. Callers judge the exit status."""
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, stdin=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PeerError(f"{Path(cmd[0]).name}: {e}") from e
    return proc


def tool_version(cmd: list[str], suffix: str = "") -> str:
    """The first line a tool prints about its version, then `suffix`; or why it cannot run."""
    try:
        proc = run_tool(cmd)
    except PeerError as e:
        return f"unavailable ({e})"
    return (proc.stdout or proc.stderr).strip().splitlines()[0] + suffix


def tool_failure(proc: subprocess.CompletedProcess, what: str) -> PeerError:
    """A PeerError quoting the last lines of the tool's stderr, which is where the cause is."""
    tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
    return PeerError(f"{what} exited {proc.returncode}: {' | '.join(tail) or '(no output)'}")


def mbox_body(text: str) -> str:
    """A comment as a message body. mbox-style `>From ` escaping keeps one comment one message
    in an mbox."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(">" + ln if ln.startswith("From ") else ln for ln in lines) + "\n"


def message_id(name: str) -> str:
    """The Message-ID of the message called `name`. Bayes filters read the Message-ID, split
    into tokens at punctuation, so no token of it may carry over from training to testing:
    `<test-000012@…>` would share `000012` with a training comment and inherit its label. A
    hash of `name` is a token no other message has."""
    return f"<{hashlib.sha256(name.encode()).hexdigest()[:32]}@blog.example>"


def comment_email(name: str, sent: dt.datetime, body: str) -> str:
    """A comment as the mail filters get it: the same plausible headers for ham and spam (a
    blog's comment notification), since stock rules score missing ones, then `body`."""
    return (
        "From: Blog comments <comments@blog.example>\n"
        "To: moderator@blog.example\n"
        "Subject: New comment\n"
        f"Date: {email.utils.format_datetime(sent)}\n"
        f"Message-ID: {message_id(name)}\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n" + body + "\n"
    )


class Bogofilter:
    """bogofilter 1.2.x, trained and queried the way a mail system would use it.

    Each comment becomes a tiny RFC 822 message (a Content-Type header saying UTF-8, a blank
    line, the text). Training registers one mbox of spam and one of ham (`-M -s` / `-M -n`),
    so each comment counts as one message. Testing classifies one file per comment in bulk mode
    (`-B`), which prints `<file> <tag> <spamicity>` per message with the header format below.

    `-C` ignores /etc/bogofilter.cf and ~/.bogofilter.cf, so the compiled-in defaults apply
    on every machine (robx 0.52, robs 0.0178, min_dev 0.375, ham_cutoff 0.45,
    spam_cutoff 0.99). Spam means bogofilter's own verdict 'S'; 'U' (unsure) counts as not spam.
    """

    name = "bogofilter"
    # A message header for every comment. The header tokens are identical in ham and spam, so
    # bogofilter's min_dev filter drops them; the charset keeps UTF-8 text from being read as
    # bogofilter's default ISO-8859-1.
    HEADER = "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
    MBOX_FROM = "From commentguard-bench Thu Jan  1 00:00:00 1970\n"
    # `-T` prints only six significant digits and `-TT` drops the verdict, so the verdict and
    # score come from a custom `-v` header line instead. bogofilter silently cuts a formatted
    # spamicity after 19 characters (%.17g loses its exponent), hence %.12e: 18 characters,
    # 13 significant digits at both ends of the scale.
    CLASSIFY_FORMAT = [
        "-v",
        "--header-format=%c %p",
        "--spamicity-tags=S,H,U",
        "--spamicity-formats=%.12e,%.12e,%.12e",
    ]

    # One bulk run over a fold takes some 25 ms, so a single run is at the mercy of whatever
    # else the machine does in those milliseconds.
    TIMED_RUNS = 5

    def __init__(self, binary: str = "bogofilter"):
        self.binary = binary

    @classmethod
    def message(cls, text: str) -> str:
        """The comment as a whole message (HEADER, then the text as body). The test files get
        the same bytes as the training mbox, so training and testing tokenise alike."""
        return cls.HEADER + mbox_body(text)

    def run(self, fold: Fold) -> PeerOutput:
        work = fold.dir / "bogofilter"
        db = work / "db"
        db.mkdir(parents=True)
        self._train(work, db, fold.train)
        files = self._write_test_messages(work, fold.test)
        cmd = [self.binary, "-C", "-d", str(db), *self.CLASSIFY_FORMAT, "-B", *files]
        # Classifying does not touch the word list, so every run answers the same; the
        # median run is the rate, as commentguard's is its median pass.
        runs = []
        for _ in range(self.TIMED_RUNS):
            start = time.perf_counter()
            proc = run_tool(cmd, cwd=work)
            elapsed = time.perf_counter() - start
            # Exit 0/1/2 = spam/ham/unsure of the last message; 3 = error.
            if proc.returncode not in (0, 1, 2):
                raise tool_failure(proc, "bogofilter -B")
            if runs and proc.stdout != runs[0][1]:
                raise PeerError("bogofilter -B answered differently when run again")
            runs.append((elapsed, proc.stdout))
        tags, scores = self._parse(runs[0][1], files)
        return PeerOutput(
            predicted_spam=np.array([t == "S" for t in tags]),
            score=np.array(scores),
            comments_per_second=len(files) / statistics.median(t for t, _ in runs),
        )

    def _train(self, work: Path, db: Path, train: list[Record]) -> None:
        for flag, is_spam in (("-s", True), ("-n", False)):
            mbox = work / ("train-spam.mbox" if is_spam else "train-ham.mbox")
            mbox.write_text(
                "".join(
                    self.MBOX_FROM + self.message(r.text) + "\n"
                    for r in train
                    if r.is_spam == is_spam
                ),
                encoding="utf-8",
            )
            with mbox.open("rb") as f:
                proc = run_tool([self.binary, "-C", "-d", str(db), "-M", flag], stdin=f)
            if proc.returncode != 0:
                raise tool_failure(proc, f"bogofilter -M {flag}")

    def _write_test_messages(self, work: Path, test: list[Record]) -> list[str]:
        (work / "test").mkdir()
        files = []
        for i, r in enumerate(test):
            name = f"test/{i:05d}.eml"
            (work / name).write_text(self.message(r.text), encoding="utf-8")
            files.append(name)
        return files

    @staticmethod
    def _parse(stdout: str, files: list[str]) -> tuple[list[str], list[float]]:
        """Maps `<file> <tag> <spamicity>` lines back to test order, insisting on one per file."""
        by_file = {}
        for line in stdout.splitlines():
            try:
                name, tag, score = line.rsplit(" ", 2)
                by_file[name] = (tag, float(score))
            except ValueError:
                raise PeerError(f"unexpected bogofilter output line {line!r}") from None
            if tag not in ("S", "H", "U"):
                raise PeerError(f"unexpected bogofilter verdict {tag!r} in {line!r}")
        missing = [f for f in files if f not in by_file]
        if missing or len(by_file) != len(files):
            raise PeerError(f"bogofilter printed {len(by_file)} results for {len(files)} messages")
        return [by_file[f][0] for f in files], [by_file[f][1] for f in files]

    def version(self) -> str:
        return tool_version([self.binary, "-V"])

    def settings(self) -> dict[str, float]:
        """The classification parameters in force (compiled-in defaults, because of -C)."""
        try:
            proc = run_tool([self.binary, "-C", "-Q"])
        except PeerError:
            return {}
        keys = {"robx", "robs", "min_dev", "ham_cutoff", "spam_cutoff", "ns_esf", "sp_esf"}
        out = {}
        for line in proc.stdout.splitlines():
            parts = line.split("=", 1)
            if len(parts) == 2 and parts[0].strip() in keys:
                out[parts[0].strip()] = float(parts[1].split("#")[0])
        return out


class PairedFilter:
    """A mail filter of which one run per fold gives two rows (see `PairedRow`): its stock
    verdict and its Bayes classifier alone. The run happens once, for whichever row comes
    first; a failure is kept so that the second row reports the same cause."""

    def __init__(self):
        self._done: dict[Path, tuple[PeerOutput, PeerOutput] | Exception] = {}

    def outputs(self, fold: Fold) -> tuple[PeerOutput, PeerOutput]:
        """(stock verdict, Bayes alone) for the fold, from one training and one checking run."""
        if fold.dir not in self._done:
            try:
                self._done[fold.dir] = self._run(fold)
            except Exception as e:  # noqa: BLE001 - the second row reports the first's cause
                self._done[fold.dir] = e
        done = self._done[fold.dir]
        if isinstance(done, Exception):
            raise done
        return done

    def _run(self, fold: Fold) -> tuple[PeerOutput, PeerOutput]:
        raise NotImplementedError


class SpamAssassin(PairedFilter):
    """SpamAssassin 4.0 as a mail server runs it, with its Bayes classifier trained per fold.

    Each comment becomes a small e-mail that carries the same plausible headers for ham and
    spam (a blog's comment notification: From, To, Subject, Date, Message-ID). Stock rules
    score missing headers, so bare comments would all collect the same points for that.
    `sa-learn` registers an mbox of spam and one of ham into a fresh Bayes database per fold;
    auto-learning is off, so testing never trains. `spamassassin --local` (no network tests)
    then checks an mbox of the test comments with the rules Debian packages (pinned with
    `-C`, so a machine that ran sa-update gives the same table) and the site configuration.
    Checking takes some 50 ms a comment, so the test mbox is split into one chunk per CPU,
    checked side by side; its rate is therefore not reported.

    One run gives two rows (see `rows`): the stock verdict of all rules including Bayes, and
    the Bayes probability alone, which is the like-for-like peer of a trained classifier.
    """

    # `report_safe 0` adds headers instead of wrapping flagged messages in a report;
    # `add_header` exposes the Bayes probability (four decimals, as SpamAssassin prints it).
    PREFS = (
        "use_bayes 1\n"
        "bayes_auto_learn 0\n"
        "bayes_path {db}\n"
        "report_safe 0\n"
        "add_header all Bayes _BAYES_\n"
    )
    STATUS = re.compile(r"^(Yes|No), score=(-?\d+(?:\.\d+)?) ")
    LEARNED = re.compile(r"Learned tokens from (\d+) message\(s\) \((\d+) message\(s\) examined\)")
    RULES = "/usr/share/spamassassin"
    # Below these counts SpamAssassin's Bayes answers 0.5 for everything (its defaults,
    # bayes_min_spam_num and bayes_min_ham_num): the cold-start wall commentguard has not.
    MIN_LEARNED = 200

    def __init__(self, spamassassin: str = "spamassassin", sa_learn: str = "sa-learn"):
        super().__init__()
        self.spamassassin = spamassassin
        self.sa_learn = sa_learn

    def rows(self) -> list[PairedRow]:
        return [
            PairedRow("spamassassin", self, stock=True),
            PairedRow("spamassassin-bayes", self, stock=False),
        ]

    @staticmethod
    def message(name: str, n: int, text: str) -> str:
        """The comment as the fold's `n`th message. Each gets its own Date, a second apart:
        Bayes remembers what it learned by a hash of the Date and the body, so with one Date
        two comments of the same text would be learned once. Bayes reads no Date token."""
        sent = dt.datetime(2015, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=n)
        return "From comments@blog.example Thu Jan  1 00:00:00 2015\n" + comment_email(
            name, sent, mbox_body(text)
        )

    def _run(self, fold: Fold) -> tuple[PeerOutput, PeerOutput]:
        work = fold.dir / "spamassassin"
        work.mkdir()
        prefs = work / "prefs.cf"
        prefs.write_text(self.PREFS.format(db=work / "bayes"), encoding="utf-8")
        for flag, is_spam in (("--spam", True), ("--ham", False)):
            mbox = work / ("train-spam.mbox" if is_spam else "train-ham.mbox")
            messages = [
                self.message(f"train-{i}", i, r.text)
                for i, r in enumerate(fold.train)
                if r.is_spam == is_spam
            ]
            mbox.write_text("".join(messages), encoding="utf-8")
            cmd = [self.sa_learn, *self.options(prefs), flag, "--mbox", str(mbox)]
            proc = run_tool(cmd)
            if proc.returncode != 0:
                raise tool_failure(proc, f"sa-learn {flag}")
            learned = self.LEARNED.search(proc.stdout)
            if not learned or learned.groups() != (str(len(messages)),) * 2:
                raise PeerError(
                    f"sa-learn {flag} learned from {learned[0] if learned else 'no'} message(s) "
                    f"of {len(messages)}: {proc.stdout.strip()!r}"
                )
            if len(messages) < self.MIN_LEARNED:
                log(f"  spamassassin: {len(messages)} {flag[2:]} trained, so Bayes stays off")
        if not fold.test:
            raise PeerError("no test comments")
        # Chunks in separate processes; the output keeps no order, so IDs map it back.
        chunks = min(len(os.sched_getaffinity(0)), len(fold.test))
        test_ids = {message_id(f"test-{i}"): i for i in range(len(fold.test))}
        paths = []
        for c in range(chunks):
            path = work / f"test-{c}.mbox"
            path.write_text(
                "".join(
                    self.message(f"test-{i}", len(fold.train) + i, r.text)
                    for i, r in enumerate(fold.test)
                    if i % chunks == c
                ),
                encoding="utf-8",
            )
            paths.append(path)
        with ThreadPoolExecutor(max_workers=chunks) as pool:
            procs = list(pool.map(self._check, paths))
        results: dict[int, tuple[bool, float, float]] = {}
        for path, proc in zip(paths, procs, strict=True):
            if proc.returncode != 0:
                raise tool_failure(proc, "spamassassin --mbox")
            checked = path.with_suffix(".out")
            checked.write_text(proc.stdout, encoding="utf-8")
            results.update(self._parse(checked, test_ids))
        if sorted(results) != list(range(len(fold.test))):
            raise PeerError(f"spamassassin answered for {len(results)} of {len(fold.test)}")
        flagged, total, bayes = (np.array(v) for v in zip(*(results[i] for i in sorted(results))))
        return (
            PeerOutput(predicted_spam=flagged.astype(bool), score=total),
            # 0.5 is what SpamAssassin reports when Bayes has no opinion (no token of the
            # comment is far enough from neutral); it counts as ham, as bogofilter's unsure.
            PeerOutput(predicted_spam=bayes > 0.5, score=bayes),
        )

    def options(self, prefs: Path) -> list[str]:
        return ["--local", "-C", self.RULES, "-p", str(prefs)]

    def _check(self, mbox: Path) -> subprocess.CompletedProcess:
        cmd = [self.spamassassin, *self.options(mbox.parent / "prefs.cf"), "--mbox", str(mbox)]
        return run_tool(cmd, timeout=3600)

    @classmethod
    def _parse(
        cls, checked: Path, test_ids: dict[str, int]
    ) -> dict[int, tuple[bool, float, float]]:
        """Test index → (flagged, total score, Bayes probability), from the headers that
        SpamAssassin added to each message."""
        out = {}
        box = mailbox.mbox(checked, create=False)
        try:
            messages = list(box)
        finally:
            box.close()
        for msg in messages:
            msgid, status, bayes = msg["Message-ID"], msg["X-Spam-Status"], msg["X-Spam-Bayes"]
            index = test_ids.get((msgid or "").strip())
            verdict = cls.STATUS.match(" ".join((status or "").split()))
            try:
                probability = float(bayes or "")
            except ValueError:
                probability = None
            if index is None or not verdict or probability is None:
                raise PeerError(f"unexpected spamassassin headers {msgid!r} {status!r} {bayes!r}")
            out[index] = (verdict.group(1) == "Yes", float(verdict.group(2)), probability)
        return out

    def version(self) -> str:
        return tool_version([self.spamassassin, "--version"], f", rules from {self.RULES}")


@dataclasses.dataclass
class PairedRow:
    """One of the two rows one run of a mail filter gives (SpamAssassin, rspamd): its stock
    verdict, from every rule including Bayes, with the total score for AUC; or its Bayes
    classifier alone, spam when the probability is above 0.5, with that probability for AUC."""

    name: str
    filter: PairedFilter
    stock: bool

    def run(self, fold: Fold) -> PeerOutput:
        stock, bayes = self.filter.outputs(fold)
        return stock if self.stock else bayes


class Rspamd(PairedFilter):
    """rspamd 3.4 (the Debian package) with its Bayes classifier, trained per fold.

    rspamd is a daemon that keeps its Bayes statistics in Redis, so each fold starts a fresh
    Redis (on a Unix socket, nothing saved) and a fresh rspamd on free 127.0.0.1 ports, both
    in a temporary folder, and stops them when the fold is done: nothing of them runs while
    the other peers are timed. The configuration is Debian's, with only what a benchmark
    needs changed in a `local.d`: Bayes on that Redis with auto-learning off, the workers on
    those ports (no proxy), DNS pointed at a closed port so that no test waits for the
    network, quiet logging. Its stock limits stay: Bayes gives no opinion on a message of
    fewer than 11 tokens (`min_tokens`) or before it has learned 200 of each class
    (`min_learns`), and it does not learn a message whose content it has learned before or
    that is too short; the log line of each fold counts those.

    Each comment becomes one small e-mail (the same headers for ham and spam, and one Date for
    a whole fold, see `message`) handed over as a local MTA would: `rspamc` with the client
    IP 127.0.0.1, which makes rspamd skip its checks of the sending host. `rspamc learn_spam` / `learn_ham` train
    through the controller, in bulk as a labelled corpus is learned (`Learn-Type: bulk`), so
    every comment counts, not only those Bayes does not yet classify right; `rspamc symbols`
    checks the test comments.

    One run gives two rows, as SpamAssassin's does: the stock verdict (spam when rspamd's
    action is `add header`, `rewrite subject` or `reject`, i.e. a score of at least 6 with
    Debian's actions; `greylist` only delays mail and counts as ham) with the total score for
    AUC, and Bayes alone: its probability, read back from the `BAYES_SPAM` or `BAYES_HAM`
    symbol (see `bayes_probability`), 0.5 when neither fired, spam above 0.5.
    """

    CONFIG = "/etc/rspamd/rspamd.conf"
    # (file in local.d, its text), formatted with the fold's socket, ports and cache folder.
    LOCAL = (
        ("classifier-bayes.conf", 'servers = "{redis}";\nautolearn = false;\n'),
        ("worker-normal.inc", 'bind_socket = "127.0.0.1:{normal}";\ncount = 1;\n'),
        ("worker-controller.inc", 'bind_socket = "127.0.0.1:{controller}";\n'),
        ("worker-proxy.inc", "enabled = false;\n"),
        (
            "options.inc",
            (
                'hs_cache_dir = "{hs_cache}/";\n'
                'dns {{\n  nameserver = ["127.0.0.1:9"];\n'
                "  timeout = 0.1s;\n  retransmits = 0;\n}}\n"
            ),
        ),
        ("logging.inc", 'level = "error";\n'),
    )
    SPAM_ACTIONS = ("add header", "rewrite subject", "reject")
    # rspamd's own reasons not to learn a message, which are its behaviour, not a failure.
    NOT_LEARNED = (
        ("too short", re.compile(r"contains less tokens than required")),
        ("learned before", re.compile(r"has been already learned")),
    )
    ENVELOPE = ("-i", "127.0.0.1", "-F", "comments@blog.example", "-r", "moderator@blog.example")
    # Learning a labelled corpus: without it rspamd skips a message its Bayes already places
    # in the class with 95% confidence, and fails the whole request when all are skipped.
    BULK = ("--header", "Learn-Type: bulk")
    STARTUP_SECONDS = 120

    def __init__(self, rspamd="rspamd", rspamc="rspamc", redis_server="redis-server"):
        super().__init__()
        self.rspamd = rspamd
        self.rspamc = rspamc
        self.redis_server = redis_server

    def rows(self) -> list[PairedRow]:
        return [PairedRow("rspamd", self, stock=True), PairedRow("rspamd-bayes", self, stock=False)]

    @staticmethod
    def message(name: str, text: str, sent: dt.datetime) -> str:
        """The comment as an e-mail file. Every message of a fold gets the same Date, `sent`:
        rspamd's Bayes learns a token of the Date's weekday and hour, which would become a
        spam or ham signal if the hour turned while one class was being written. A recent
        Date, not a fixed old one, because rules score dates far in the past."""
        return comment_email(name, sent, text)

    def _run(self, fold: Fold) -> tuple[PeerOutput, PeerOutput]:
        work = fold.dir / "rspamd"
        for kind in ("train-spam", "train-ham", "test"):
            (work / kind).mkdir(parents=True)
        sent = dt.datetime.now(dt.UTC).replace(microsecond=0)
        for i, r in enumerate(fold.train):
            kind = "train-spam" if r.is_spam else "train-ham"
            message = self.message(f"train-{i}", r.text, sent)
            (work / kind / f"{i:05d}.eml").write_text(message, encoding="utf-8")
        tests = []
        for i, r in enumerate(fold.test):
            path = work / "test" / f"{i:05d}.eml"
            path.write_text(self.message(f"test-{i}", r.text, sent), encoding="utf-8")
            tests.append(str(path))
        if not tests:
            raise PeerError("no test comments")
        with self._daemons(fold.dir.parent / "rspamd-hyperscan") as (normal, controller):
            notes = []
            for command, kind in (("learn_spam", "train-spam"), ("learn_ham", "train-ham")):
                files = sorted(str(f) for f in (work / kind).iterdir())
                answers = self._rspamc(controller, command, files, self.BULK)
                skipped = {reason: 0 for reason, _ in self.NOT_LEARNED}
                for answer in answers.values():
                    error = answer.get("error")
                    if error is None:
                        continue
                    reason = next((k for k, p in self.NOT_LEARNED if p.search(error)), None)
                    if reason is None:
                        raise PeerError(f"rspamc {command}: {error}")
                    skipped[reason] += 1
                learned = len(files) - sum(skipped.values())
                notes.append(
                    f"{learned} of {len(files)} {kind[6:]} learned ("
                    + ", ".join(f"{n} {reason}" for reason, n in skipped.items())
                    + ")"
                )
            log(f"  rspamd: {'; '.join(notes)}")
            answers = self._rspamc(normal, "symbols", tests, self.ENVELOPE)
        (work / "test-answers.json").write_text(json.dumps(answers, indent=1), encoding="utf-8")
        flagged, total, bayes = [], [], []
        for path in tests:
            answer = answers[path]
            if "action" not in answer or "score" not in answer:
                raise PeerError(f"rspamc symbols: unexpected answer for {path}: {answer}")
            flagged.append(answer["action"] in self.SPAM_ACTIONS)
            total.append(float(answer["score"]))
            bayes.append(self.bayes_probability(answer.get("symbols", {})))
        bayes = np.array(bayes)
        log(f"  rspamd: Bayes gave no opinion on {np.sum(bayes == 0.5)} of {len(bayes)} tested")
        return (
            PeerOutput(predicted_spam=np.array(flagged), score=np.array(total)),
            PeerOutput(predicted_spam=bayes > 0.5, score=bayes),
        )

    @staticmethod
    def bayes_probability(symbols: dict) -> float:
        """The Bayes spam probability behind an answer. BAYES_SPAM and BAYES_HAM carry not the
        probability but how far it is from 0.5 toward certainty, as a percentage
        (`(p - 0.5) * 200` for spam, `(0.5 - p) * 200` for ham: `["26.71%"]` on BAYES_SPAM is
        p = 0.634); neither fires when Bayes has no opinion."""
        for symbol, is_spam in (("BAYES_SPAM", True), ("BAYES_HAM", False)):
            if symbol in symbols:
                options = symbols[symbol].get("options") or []
                try:
                    percent = float(options[0].rstrip("%"))
                except (IndexError, ValueError):
                    raise PeerError(f"unexpected {symbol} options {options!r}") from None
                return 0.5 + percent / 200 if is_spam else 0.5 - percent / 200
        return 0.5

    def _rspamc(self, port: int, command: str, files: list[str], extra=()) -> dict[str, dict]:
        """Runs `rspamc -j` on `files`, returning each file's JSON answer by file name."""
        cmd = [self.rspamc, "-h", f"127.0.0.1:{port}", "-j", "-n", "4", *extra, command, *files]
        proc = run_tool(cmd, timeout=3600)
        if proc.returncode != 0:
            raise tool_failure(proc, f"rspamc {command}")
        try:
            answers = {answer.get("filename"): answer for answer in json_stream(proc.stdout)}
        except json.JSONDecodeError as e:
            raise PeerError(f"rspamc {command}: unreadable output ({e})") from None
        missing = [f for f in files if f not in answers]
        if missing:
            raise PeerError(f"rspamc {command}: no answer for {len(missing)} of {len(files)} files")
        return answers

    @contextlib.contextmanager
    def _daemons(self, hs_cache: Path):
        """A fresh Redis and rspamd in a temporary folder; yields the (normal, controller)
        ports. Only the rules compiled for Hyperscan, which take rspamd some 15 s to compile at
        start, are kept in `hs_cache` for the next fold: they hold nothing learned."""
        with (
            tempfile.TemporaryDirectory(prefix="cg-rspamd-") as state,
            self._started(Path(state), hs_cache) as ports,
        ):
            yield ports

    @contextlib.contextmanager
    def _started(self, state: Path, hs_cache: Path):
        normal, controller = free_ports(2)
        hs_cache.mkdir(exist_ok=True)
        redis_socket = state / "redis.sock"
        local = state / "local.d"
        local.mkdir()
        for name, template in self.LOCAL:
            text = template.format(
                redis=redis_socket, normal=normal, controller=controller, hs_cache=hs_cache
            )
            (local / name).write_text(text, encoding="utf-8")
        for folder in ("run", "db", "log"):
            (state / folder).mkdir()
        redis_cmd = [
            self.redis_server, "--port", "0", "--unixsocket", str(redis_socket),
            "--save", "", "--appendonly", "no", "--dir", str(state),
        ]  # fmt: skip
        rspamd_cmd = [
            self.rspamd, "-f", "-c", self.CONFIG, f"--var=LOCAL_CONFDIR={state}",
            *(f"--var={v.upper()}DIR={state / v}" for v in ("run", "db", "log")),
        ]  # fmt: skip
        if os.geteuid() == 0:
            # rspamd refuses to run as root unless told which user to be, and that it may.
            rspamd_cmd += ["-u", "root", "-g", "root", "-i"]
        daemons = []
        try:
            for cmd in (redis_cmd, rspamd_cmd):
                # Output to a file, not a pipe that nobody reads until the daemon exits.
                output = state / "log" / f"{Path(cmd[0]).name}.out"
                try:
                    with output.open("w") as out:
                        daemons.append(subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT))
                except OSError as e:
                    raise PeerError(f"{Path(cmd[0]).name}: {e}") from e
            self._wait_ready(daemons, state, normal, controller)
            yield normal, controller
        finally:
            for daemon in reversed(daemons):
                daemon.terminate()
                try:
                    daemon.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    daemon.kill()
                    daemon.wait()

    def _wait_ready(self, daemons, state: Path, normal: int, controller: int) -> None:
        """Waits until both workers answer; a daemon that exits first is a PeerError."""
        probe = state / "probe.eml"
        probe.write_text(self.message("probe", "ready?", dt.datetime.now(dt.UTC)), "utf-8")
        deadline = time.monotonic() + self.STARTUP_SECONDS
        while time.monotonic() < deadline:
            for daemon in daemons:
                if daemon.poll() is not None:
                    name = Path(daemon.args[0]).name
                    err = []
                    for log_file in (state / "log" / f"{name}.out", state / "log" / "rspamd.log"):
                        if log_file.exists():
                            text = log_file.read_text(errors="replace")
                            err += text.strip().splitlines()[-3:]
                    raise PeerError(
                        f"{name} exited {daemon.returncode}: " + (" | ".join(err) or "(no output)")
                    )
            ready = all(
                run_tool(
                    [self.rspamc, "-h", f"127.0.0.1:{port}", "-t", "2", *command], timeout=10
                ).returncode
                == 0
                for port, command in ((controller, ["stat"]), (normal, ["symbols", str(probe)]))
            )
            if ready:
                return
            time.sleep(0.5)
        raise PeerError(f"rspamd did not answer within {self.STARTUP_SECONDS} s")

    def version(self) -> str:
        return tool_version([self.rspamd, "--version"], f", config {self.CONFIG}")


def json_stream(text: str) -> list:
    """The JSON values of `text`, written one after another (as `rspamc -j` does for many
    files)."""
    values, decoder, at = [], json.JSONDecoder(), 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return values
        value, at = decoder.raw_decode(text, at)
        values.append(value)


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports on 127.0.0.1 that the OS says are free (a daemon binds them
    right after). The sockets stay open until all are picked, so no port comes back twice."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


class SklearnPeer:
    """A scikit-learn pipeline fitted on the training texts of each fold.

    `score` is how the pipeline ranks comments for ROC AUC: predict_proba for probabilistic
    models, decision_function for the SVM (which has no probabilities).
    """

    def __init__(self, name: str, make_pipeline: Callable[[], Pipeline], score: str):
        self.name = name
        self.make_pipeline = make_pipeline
        self.score = score

    def run(self, fold: Fold) -> PeerOutput:
        pipeline = self.make_pipeline()
        pipeline.fit([r.text for r in fold.train], [r.is_spam for r in fold.train])
        texts = [r.text for r in fold.test]
        if self.score == "decision_function":
            score = pipeline.decision_function(texts)
        else:
            proba = pipeline.predict_proba(texts)
            score = proba[:, list(pipeline.classes_).index(True)]
        return PeerOutput(
            predicted_spam=np.asarray(pipeline.predict(texts), dtype=bool), score=score
        )


def tfidf_features() -> FeatureUnion:
    """Word uni/bigrams catch phrases ("check out my"); char_wb 2-5-grams catch obfuscated
    spellings and URLs. Sublinear tf damps repeated words in long comments."""
    return FeatureUnion(
        [
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )


def sklearn_peers() -> list[SklearnPeer]:
    return [
        SklearnPeer(
            "sklearn-mnb",
            lambda: Pipeline([("counts", CountVectorizer()), ("nb", MultinomialNB())]),
            "predict_proba",
        ),
        SklearnPeer(
            "linear-svm",
            lambda: Pipeline([("tfidf", tfidf_features()), ("svm", LinearSVC(C=1.0))]),
            "decision_function",
        ),
        SklearnPeer(
            "logistic-regr",
            lambda: Pipeline(
                [("tfidf", tfidf_features()), ("lr", LogisticRegression(C=10, max_iter=2000))]
            ),
            "predict_proba",
        ),
    ]


class Commentguard:
    """`commentguard eval`, which trains on train.jsonl and scores test.jsonl in one process.

    It writes one prediction per test comment and an eval.json whose `scoring` block holds the
    single-threaded in-process time to normalise, tokenise, score and explain the test
    comments; throughput comes from that, so process start-up and training are excluded.

    The `commentguard` row places each comment on the page it was posted on (`--pages`
    models/youtube-spam.pages), as a blog backend sends the permalink with every comment, so a
    link to the video itself reads as such. The other peers see only the text, so the
    `commentguard-text-only` row runs without pages, on exactly what they get.
    """

    name = "commentguard"

    def __init__(
        self,
        binary: Path,
        unavailable: str | None = None,
        pages: Path | None = None,
        name: str = "commentguard",
    ):
        self.binary = binary
        self.unavailable = unavailable
        self.pages = pages
        self.name = name

    def run(self, fold: Fold) -> PeerOutput:
        if self.unavailable:
            raise PeerError(self.unavailable)
        work = fold.dir / self.name
        work.mkdir()
        preds_path, eval_path = work / "preds.jsonl", work / "eval.json"
        cmd = [
            str(self.binary), "eval",
            "--train", str(fold.train_path),
            "--test", str(fold.test_path),
            "--predictions", str(preds_path),
            "--json", str(eval_path),
        ]  # fmt: skip
        if self.pages:
            cmd += ["--pages", str(self.pages)]
        proc = run_tool(cmd, cwd=work)
        (work / "stderr.txt").write_text(proc.stderr or "", encoding="utf-8")
        if proc.returncode != 0:
            raise tool_failure(proc, "commentguard eval")
        probs, verdicts = self._read_predictions(preds_path, fold.test)
        return PeerOutput(
            predicted_spam=probs >= 0.5,
            score=probs,
            verdicts=verdicts,
            comments_per_second=self._throughput(eval_path),
        )

    @staticmethod
    def _read_predictions(path: Path, test: list[Record]) -> tuple[np.ndarray, list[str]]:
        """Aligns predictions with the test records by id; a missing, extra or malformed
        prediction is an error rather than something to paper over."""
        if not path.exists():
            raise PeerError(f"commentguard eval wrote no {path.name}")
        by_id: dict[str, tuple[float, str]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            if obj["id"] in by_id:
                raise PeerError(f"duplicate prediction for {obj['id']!r}")
            if obj["verdict"] not in VERDICTS:
                raise PeerError(f"unknown verdict {obj['verdict']!r} for {obj['id']!r}")
            by_id[obj["id"]] = (float(obj["spam_probability"]), obj["verdict"])
        missing = [r.id for r in test if r.id not in by_id]
        if missing or len(by_id) != len(test):
            raise PeerError(
                f"{len(by_id)} predictions for {len(test)} test comments ({len(missing)} missing)"
            )
        return np.array([by_id[r.id][0] for r in test]), [by_id[r.id][1] for r in test]

    @staticmethod
    def _throughput(path: Path) -> float:
        scoring = json.loads(path.read_text(encoding="utf-8"))["scoring"]
        comments, seconds = scoring["comments"], scoring["seconds"]
        if seconds <= 0:
            raise PeerError(f"eval.json scoring.seconds is {seconds}")
        return comments / seconds

    def version(self) -> str:
        if self.unavailable:
            return "not built"
        try:
            proc = run_tool([str(self.binary), "--version"])
        except PeerError as e:
            return f"unavailable ({e})"
        return proc.stdout.strip() if proc.returncode == 0 else f"unavailable ({proc.returncode})"


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------


def classification_metrics(y: np.ndarray, pred: np.ndarray, score: np.ndarray) -> dict:
    """The same metrics for every peer; spam is the positive class.

    ROC AUC is None when the test set holds only one class (it is undefined there).
    """
    tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[False, True]).ravel()
    both_classes = 0 < y.sum() < len(y)
    return {
        "comments": int(len(y)),
        "spam": int(y.sum()),
        "tp": int(tp), "fp": int(fp), "fn": int(fn), "tn": int(tn),
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, zero_division=0),
        "recall": skm.recall_score(y, pred, zero_division=0),
        "f1": skm.f1_score(y, pred, zero_division=0),
        "mcc": skm.matthews_corrcoef(y, pred),
        "roc_auc": skm.roc_auc_score(y, score) if both_classes else None,
        "ham_to_spam_pct": 100.0 * fp / (fp + tn) if fp + tn else None,
    }  # fmt: skip


def verdict_breakdown(y: np.ndarray, verdicts: list[str]) -> dict:
    """Share (%) of ham and of spam that commentguard approved, held and rejected."""
    out = {}
    for cls, mask in (("ham", ~y), ("spam", y)):
        chosen = [v for v, m in zip(verdicts, mask, strict=True) if m]
        out[cls] = {v: 100.0 * chosen.count(v) / len(chosen) if chosen else None for v in VERDICTS}
    return out


@dataclasses.dataclass
class PeerRun:
    """One peer's results over all folds of an experiment."""

    name: str
    folds: list[dict] = dataclasses.field(default_factory=list)
    error: str | None = None
    y: list[np.ndarray] = dataclasses.field(default_factory=list)
    outputs: list[PeerOutput] = dataclasses.field(default_factory=list)

    def add(self, fold: Fold, out: PeerOutput) -> None:
        y = fold.y_test
        if len(out.predicted_spam) != len(y) or len(out.score) != len(y):
            raise PeerError(f"{len(out.predicted_spam)} predictions for {len(y)} test comments")
        entry = {
            "fold": fold.name,
            "train": len(fold.train),
            **classification_metrics(y, out.predicted_spam, out.score),
        }
        entry["comments_per_second"] = out.comments_per_second
        if out.verdicts is not None:
            entry["verdicts"] = verdict_breakdown(y, out.verdicts)
        self.folds.append(entry)
        self.y.append(y)
        self.outputs.append(out)

    def summary(self) -> dict:
        """Pooled metrics over all folds' predictions, fold means of F1/MCC, median throughput."""
        result: dict = {
            "status": "error" if self.error else "ok",
            "error": self.error,
            "folds": self.folds,
        }
        if self.error:
            return result
        y = np.concatenate(self.y)
        pred = np.concatenate([o.predicted_spam for o in self.outputs])
        score = np.concatenate([o.score for o in self.outputs])
        result["pooled"] = classification_metrics(y, pred, score)
        result["fold_mean"] = {k: statistics.fmean(f[k] for f in self.folds) for k in ("f1", "mcc")}
        speeds = [o.comments_per_second for o in self.outputs if o.comments_per_second is not None]
        result["comments_per_second_median"] = statistics.median(speeds) if speeds else None
        if all(o.verdicts is not None for o in self.outputs):
            result["verdicts_pooled"] = verdict_breakdown(
                y, [v for o in self.outputs for v in o.verdicts]
            )
        return result


# --------------------------------------------------------------------------------------------
# Running an experiment
# --------------------------------------------------------------------------------------------


# The two peers whose rates are compared run first in every fold, one right after the other,
# rather than half a minute of SpamAssassin and TF-IDF models apart.
TIMED_FIRST = ("bogofilter", "commentguard")


def run_experiment(name: str, folds: list[Fold], peers: list) -> dict:
    """Runs every peer on every fold; a peer that fails stops for this experiment only, so
    one broken peer still leaves a full table for the others. Rows keep the order of `peers`."""
    runs = {p.name: PeerRun(p.name) for p in peers}
    run_order = sorted(peers, key=lambda p: (p.name not in TIMED_FIRST, peers.index(p)))
    for i, fold in enumerate(folds, 1):
        write_fold(fold)
        log(f"{name} {i}/{len(folds)} {fold.name} (train {len(fold.train)}, test {len(fold.test)})")
        for peer in run_order:
            run = runs[peer.name]
            if run.error:
                continue
            start = time.perf_counter()
            try:
                run.add(fold, peer.run(fold))
            except Exception as e:  # noqa: BLE001 - any failure is reported in the peer's row
                detail = str(e) if isinstance(e, PeerError) else f"{type(e).__name__}: {e}"
                run.error = f"{fold.name}: {detail}"
                log(f"  {peer.name:14s} FAILED: {detail}")
                continue
            f, took = run.folds[-1], time.perf_counter() - start
            log(f"  {peer.name:14s} F1 {f['f1']:.3f}  MCC {f['mcc']:.3f}  ({took:.1f}s)")
    summaries = {n: r.summary() for n, r in runs.items()}
    return {
        "folds": [fold_info(f) for f in folds],
        "peers": summaries,
        "throughput_ratio": throughput_ratio(summaries),
    }


def fold_info(fold: Fold) -> dict:
    return {
        "name": fold.name,
        "dir": str(fold.dir),
        "train": len(fold.train),
        "train_spam": sum(r.is_spam for r in fold.train),
        "test": len(fold.test),
        "test_spam": sum(r.is_spam for r in fold.test),
    }


def throughput_ratio(summaries: dict) -> float | None:
    """commentguard's comments/s divided by bogofilter's (both one thread), fold by fold (the
    two are measured one after the other, see TIMED_FIRST), then the median over folds."""
    rates = [
        {f["fold"]: f["comments_per_second"] for f in summaries.get(name, {}).get("folds", [])}
        for name in ("commentguard", "bogofilter")
    ]
    ratios = [cg / bf for fold, cg in rates[0].items() if cg and (bf := rates[1].get(fold))]
    return statistics.median(ratios) if ratios else None


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

COLUMNS = [
    "peer", "F1 (pooled)", "F1 (fold mean)", "MCC", "AUC", "precision", "recall",
    "ham→spam %", "ham rejected %", "comments/s",
]  # fmt: skip


def fmt(value, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def table_rows(experiment: dict) -> list[list[str]]:
    rows = []
    for name, s in experiment["peers"].items():
        if s["status"] != "ok":
            rows.append([name] + ["failed"] + ["—"] * (len(COLUMNS) - 2))
            continue
        p = s["pooled"]
        rejected = s.get("verdicts_pooled", {}).get("ham", {}).get("reject")
        rows.append(
            [
                name,
                fmt(p["f1"], ".3f"),
                fmt(s["fold_mean"]["f1"], ".3f"),
                fmt(p["mcc"], ".3f"),
                fmt(p["roc_auc"], ".3f"),
                fmt(p["precision"], ".3f"),
                fmt(p["recall"], ".3f"),
                fmt(p["ham_to_spam_pct"], ".2f"),
                fmt(rejected, ".2f"),
                fmt(s["comments_per_second_median"], ",.0f"),
            ]
        )
    return rows


def experiment_notes(experiment: dict) -> list[str]:
    notes = []
    ratio = experiment["throughput_ratio"]
    if ratio is not None:
        notes.append(
            f"throughput commentguard / bogofilter: {ratio:.2f}x (median over folds of the "
            "ratio within each fold)"
        )
    for name, s in experiment["peers"].items():
        if s["status"] != "ok":
            notes.append(f"{name} failed: {s['error']}")
    return notes


def text_table(title: str, experiment: dict) -> str:
    rows = [COLUMNS] + table_rows(experiment)
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]

    def align(row: list[str]) -> str:
        cells = zip(row, widths, strict=True)
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(cells))

    lines = [title, align(rows[0]), "  ".join("-" * w for w in widths)]
    lines += [align(r) for r in rows[1:]]
    lines += experiment_notes(experiment)
    return "\n".join(lines)


def markdown(results: dict) -> str:
    out = ["# commentguard peer comparison", ""]
    meta = results["meta"]
    out.append(f"Generated {meta['generated']} on {meta['machine']}.")
    out.append(f"commentguard working tree: {meta['commentguard_git']}.")
    out.append("")
    out.append("| tool | version |\n|---|---|")
    for k, v in meta["versions"].items():
        out.append(f"| {k} | {v} |")
    for exp in results["experiments"].values():
        out += ["", f"## {exp['title']}", ""]
        out.append("| " + " | ".join(COLUMNS) + " |")
        out.append("|---" + "|---:" * (len(COLUMNS) - 1) + "|")
        out += ["| " + " | ".join(r) + " |" for r in table_rows(exp)]
        notes = experiment_notes(exp)
        if notes:
            out += [""] + [f"- {n}" for n in notes]
        out += ["", "Per-fold F1:", "", fold_f1_table(exp)]
        cg = exp["peers"].get("commentguard", {})
        if cg.get("verdicts_pooled"):
            out += [
                "",
                "commentguard verdicts (% of each class, pooled):",
                "",
                verdict_table(cg["verdicts_pooled"]),
            ]
    return "\n".join(out) + "\n"


def fold_f1_table(exp: dict) -> str:
    names = [f["name"] for f in exp["folds"]]
    lines = ["| peer | " + " | ".join(names) + " |", "|---" + "|---:" * len(names) + "|"]
    for peer, s in exp["peers"].items():
        by_fold = {f["fold"]: f["f1"] for f in s["folds"]}
        lines.append(f"| {peer} | " + " | ".join(fmt(by_fold.get(n), ".3f") for n in names) + " |")
    return "\n".join(lines)


def verdict_table(breakdown: dict) -> str:
    lines = ["| class | approved % | held % | rejected % |", "|---|---:|---:|---:|"]
    for cls in ("ham", "spam"):
        lines.append(
            f"| {cls} | " + " | ".join(fmt(breakdown[cls][v], ".2f") for v in VERDICTS) + " |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Provenance and main
# --------------------------------------------------------------------------------------------


def git_describe() -> str:
    """HEAD plus a dirty marker: the benchmark builds the working tree, not the commit."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def default_binary() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    return (REPO / target if not target.is_absolute() else target) / "release" / "commentguard"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=REPO.parent / "shared" / "datasets",
        help="folder with youtube-spam/ and sms-spam/ (default: ../shared/datasets from the repo)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "bench" / "results",
        help="for results.json, results.md and per-fold work folders (default: bench/results)",
    )
    parser.add_argument("--only", choices=["youtube", "sms"], help="run one experiment only")
    parser.add_argument(
        "--commentguard",
        type=Path,
        default=default_binary(),
        help="commentguard binary (default: target/release/commentguard)",
    )
    parser.add_argument(
        "--commentguard-error",
        metavar="MESSAGE",
        help="mark commentguard failed with MESSAGE (bench/peers passes this when the build fails)",
    )
    parser.add_argument(
        "--bogofilter", default="bogofilter", help="bogofilter binary (default: from PATH)"
    )
    parser.add_argument("--spamassassin", default="spamassassin", help="(default: from PATH)")
    parser.add_argument("--sa-learn", default="sa-learn", help="(default: from PATH)")
    parser.add_argument("--rspamd", default="rspamd", help="(default: from PATH)")
    parser.add_argument("--rspamc", default="rspamc", help="(default: from PATH)")
    parser.add_argument("--redis-server", default="redis-server", help="(default: from PATH)")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="PEER",
        help="leave a peer out by its row name, e.g. the slow spamassassin and "
        "spamassassin-bayes rows (repeatable)",
    )
    return parser.parse_args(argv)


EXPERIMENTS = {
    "youtube": ("YouTube, leave-one-video-out", "youtube-spam/comments.jsonl", youtube_folds),
    "sms": (
        f"SMS, stratified {SMS_SPLITS}-fold (seed {SMS_SEED})",
        "sms-spam/messages.jsonl",
        sms_folds,
    ),
}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    bogofilter = Bogofilter(args.bogofilter)
    spamassassin = SpamAssassin(args.spamassassin, args.sa_learn)
    rspamd = Rspamd(args.rspamd, args.rspamc, args.redis_server)
    binary = args.commentguard.resolve()
    commentguard = Commentguard(binary, args.commentguard_error, pages=PAGES)
    text_only = Commentguard(binary, args.commentguard_error, name="commentguard-text-only")
    peers = [
        bogofilter,
        *spamassassin.rows(),
        *rspamd.rows(),
        *sklearn_peers(),
        text_only,
        commentguard,
    ]
    unknown = set(args.skip) - {p.name for p in peers}
    if unknown:
        log(f"--skip: no peer named {', '.join(sorted(unknown))}")
        return 2
    peers = [p for p in peers if p.name not in args.skip]

    results = {
        "meta": {
            "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "commentguard_git": git_describe(),
            "versions": {
                "python": platform.python_version(),
                "numpy": np.__version__,
                "scikit-learn": sklearn.__version__,
                "bogofilter": bogofilter.version(),
                "spamassassin": spamassassin.version(),
                "rspamd": rspamd.version(),
                "commentguard": commentguard.version(),
            },
            "bogofilter_settings": bogofilter.settings(),
            "sms_folds": {"n_splits": SMS_SPLITS, "shuffle": True, "random_state": SMS_SEED},
        },
        "experiments": {},
    }
    started = time.perf_counter()
    for key, (title, rel_path, make_folds) in EXPERIMENTS.items():
        if args.only and key != args.only:
            continue
        records = load_records(args.data_dir / rel_path)
        folds = make_folds(records, out / "work" / key)
        results["experiments"][key] = {"title": title, **run_experiment(key, folds, peers)}
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)

    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out / "results.md").write_text(markdown(results), encoding="utf-8")
    print("\n\n".join(text_table(e["title"], e) for e in results["experiments"].values()))
    print(
        f"\nwrote {out / 'results.json'} and {out / 'results.md'} ({results['meta']['seconds']}s)"
    )

    crashed = [
        f"{key}/{name}"
        for key, exp in results["experiments"].items()
        for name, s in exp["peers"].items()
        if s["status"] != "ok" and name not in (commentguard.name, text_only.name)
    ]
    if crashed:
        log(f"peers failed: {', '.join(crashed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
