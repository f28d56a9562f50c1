"""The peer harness's own tests: how it reads each tool's answers and computes the table.

A misread answer does not crash a benchmark, it quietly gives a peer the wrong row (rspamd's
Bayes percentage read as a probability once turned its SMS F1 from 0.74 into 0.56). These pin
the readings to answers in the tools' real formats. `bench/peers` runs them before every
benchmark, and `.ci/run` in CI; by hand, from `bench/` with the venv `bench/venv` makes:

    python -m unittest -v test_peers
"""

from __future__ import annotations

import tempfile
import unittest
from pathlib import Path

import numpy as np

import peers


class RspamdAnswers(unittest.TestCase):
    def test_bayes_symbols_carry_the_distance_from_one_half(self):
        spam = {"BAYES_SPAM": {"options": ["26.71%"]}}
        ham = {"BAYES_HAM": {"options": ["90.00%"]}}
        self.assertAlmostEqual(peers.Rspamd.bayes_probability(spam), 0.63355)
        self.assertAlmostEqual(peers.Rspamd.bayes_probability(ham), 0.05)
        self.assertEqual(peers.Rspamd.bayes_probability({"MIME_GOOD": {}}), 0.5)

    def test_an_unreadable_bayes_symbol_is_an_error_not_a_guess(self):
        for options in ([], ["high"], None):
            with self.assertRaises(peers.PeerError):
                peers.Rspamd.bayes_probability({"BAYES_SPAM": {"options": options}})

    def test_rspamc_writes_one_json_object_after_another(self):
        text = '{\n "filename": "a.eml",\n "score": 1.5\n}\n{"filename": "b.eml"}\n\n'
        self.assertEqual(
            peers.json_stream(text), [{"filename": "a.eml", "score": 1.5}, {"filename": "b.eml"}]
        )
        self.assertEqual(peers.json_stream(" \n"), [])
        with self.assertRaises(ValueError):
            peers.json_stream('{"filename": "a.eml"')

    def test_the_ports_of_one_start_differ(self):
        normal, controller = peers.free_ports(2)
        self.assertNotEqual(normal, controller)


class BogofilterAnswers(unittest.TestCase):
    def test_bulk_lines_map_back_to_the_test_files_in_order(self):
        out = "test/00001.eml H 1.000000000000e-03\ntest/00000.eml S 9.990000000000e-01\n"
        tags, scores = peers.Bogofilter._parse(out, ["test/00000.eml", "test/00001.eml"])
        self.assertEqual(tags, ["S", "H"])
        self.assertEqual(scores, [0.999, 0.001])

    def test_a_missing_or_strange_answer_is_an_error(self):
        with self.assertRaises(peers.PeerError):
            peers.Bogofilter._parse("test/00000.eml S 0.99\n", ["test/00000.eml", "x.eml"])
        with self.assertRaises(peers.PeerError):
            peers.Bogofilter._parse("test/00000.eml Q 0.99\n", ["test/00000.eml"])


class SpamAssassinAnswers(unittest.TestCase):
    def test_message_ids_are_stable_and_share_no_token_with_the_name(self):
        first = peers.message_id("test-12")
        self.assertEqual(first, peers.message_id("test-12"))
        self.assertNotEqual(first, peers.message_id("train-12"))
        self.assertNotIn("12@", first)

    def test_checked_headers_give_verdict_score_and_bayes(self):
        msgid = peers.message_id("test-0")
        checked = (
            "From comments@blog.example Thu Jan  1 00:00:00 2015\n"
            f"Message-ID: {msgid}\n"
            "X-Spam-Status: Yes, score=6.1 required=5.0 tests=BAYES_99\n"
            "\tautolearn=disabled version=4.0.1\n"
            "X-Spam-Bayes: 0.9876\n"
            "\n"
            "subscribe to my channel\n"
        )
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "test.out"
            path.write_text(checked, encoding="utf-8")
            self.assertEqual(peers.SpamAssassin._parse(path, {msgid: 0}), {0: (True, 6.1, 0.9876)})

    def test_comment_lines_that_look_like_mbox_separators_are_escaped(self):
        self.assertEqual(peers.mbox_body("hi\nFrom me\r\nbye"), "hi\n>From me\nbye\n")


class TwoRowsOfOneRun(unittest.TestCase):
    def test_one_run_serves_both_rows_and_a_failure_shows_in_both(self):
        class Flaky(peers.PairedFilter):
            runs = 0

            def _run(self, fold):
                Flaky.runs += 1
                raise peers.PeerError("daemon did not start")

        flaky = Flaky()
        fold = peers.Fold(name="f", dir=Path("/nonexistent/f"), train=[], test=[])
        rows = [peers.PairedRow("x", flaky, stock=True), peers.PairedRow("x-bayes", flaky, False)]
        for row in rows:
            with self.assertRaisesRegex(peers.PeerError, "did not start"):
                row.run(fold)
        self.assertEqual(Flaky.runs, 1)


class Table(unittest.TestCase):
    def test_metrics_count_spam_as_the_positive_class(self):
        y = np.array([True, True, False, False])
        pred = np.array([True, False, False, False])
        m = peers.classification_metrics(y, pred, np.array([0.9, 0.4, 0.3, 0.1]))
        self.assertEqual((m["tp"], m["fn"], m["fp"], m["tn"]), (1, 1, 0, 2))
        self.assertAlmostEqual(m["f1"], 2 / 3)
        self.assertEqual(m["roc_auc"], 1.0)
        self.assertEqual(m["ham_to_spam_pct"], 0.0)

    def test_the_speed_ratio_pairs_folds_then_takes_the_median(self):
        def peer(rates):
            return {"folds": [{"fold": f, "comments_per_second": r} for f, r in rates.items()]}

        summaries = {
            "commentguard": peer({"a": 100.0, "b": 300.0, "c": 90.0}),
            "bogofilter": peer({"a": 10.0, "b": 20.0, "c": 30.0}),
        }
        self.assertEqual(peers.throughput_ratio(summaries), 10.0)


if __name__ == "__main__":
    unittest.main()
