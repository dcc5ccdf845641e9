import unittest

from aml_host.request import Headers, ScoringRequest


class ScoringRequestTest(unittest.TestCase):
    def test_werkzeug_like_surface(self):
        r = ScoringRequest(b'{"a": 1}', "post", "https://h/api/score?x=1&x=2&y=",
                           {"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(r.method, "POST")
        self.assertEqual(r.get_data(), b'{"a": 1}')
        self.assertEqual(r.data, b'{"a": 1}')
        self.assertEqual(r.get_data(as_text=True), '{"a": 1}')
        self.assertTrue(r.is_json)
        self.assertEqual(r.get_json(), {"a": 1})
        self.assertEqual(r.mimetype, "application/json")
        self.assertEqual(r.args.getlist("x"), ["1", "2"])
        self.assertEqual(r.args["y"], "")
        self.assertEqual(r.args.get("x", type=int), 1)
        self.assertEqual(r.query_string, b"x=1&x=2&y=")
        self.assertEqual(r.full_path, "/api/score?x=1&x=2&y=")

    def test_get_json_rules(self):
        r = ScoringRequest(b"not json", headers={"Content-Type": "text/plain"})
        self.assertIsNone(r.get_json(silent=True))
        with self.assertRaises(ValueError):
            r.get_json()
        with self.assertRaises(ValueError):
            r.get_json(force=True)
        self.assertEqual(ScoringRequest(b"[1]").get_json(force=True), [1])

    def test_headers_case_insensitive(self):
        h = Headers({"X-One": "1"})
        self.assertEqual((h["x-one"], h.get("X-ONE"), "x-one" in h, list(h)), ("1", "1", True, ["X-One"]))
        self.assertIsNone(h.get("missing"))
