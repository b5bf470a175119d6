"""Tests for annotator.articles: real files in tmp_path, real reads."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from annotator.articles import (
    ARTICLE_COLUMNS,
    iter_articles,
    read_articles,
    read_text_file,
    write_articles_jsonl,
)
from annotator.cli import main
from annotator.errors import AnnotatorError, AnnotatorWarning

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def one(df: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for k, v in where.items():
        mask &= df[k] == v
    assert mask.sum() == 1, (where, df)
    return df[mask].iloc[0]


# --- schema and formats -------------------------------------------------------------------------


def test_txt_file_text_is_exact_content_and_offsets_hold(tmp_path):
    content = "Café 👍🏽 — «terrorists» said\r\n  the minister.  \n"
    f = tmp_path / "article123.txt"
    f.write_bytes(content.encode("utf-8"))
    df = read_articles(f)
    assert list(df.columns) == ARTICLE_COLUMNS
    assert all(df[c].dtype == object for c in df.columns)
    row = df.iloc[0]
    assert row["id"] == "article123"
    assert row["text"] == content  # not stripped, CRLF kept
    assert row["text"] == f.read_bytes().decode("utf-8")
    start = row["text"].index("terrorists")
    assert row["text"][start:start + len("terrorists")] == "terrorists"
    assert row["text"][start - 1] == "«"
    assert row["source"] == str(f)
    assert row["error"] is None and row["title"] is None and row["date"] is None
    assert read_text_file(f) == content


def test_seed_format_real_seed_file():
    df = read_articles(SEEDS / "000_10cd50cdaed94430.txt")
    row = df.iloc[0]
    assert row["id"] == "000_10cd50cdaed94430"
    assert row["date"] == "2021-09-03"
    assert row["text"].startswith("In a significant development")
    raw = (SEEDS / "000_10cd50cdaed94430.txt").read_text(encoding="utf-8")
    assert raw == " date 2021-09-03 " + row["text"]
    assert row["error"] is None


def test_seed_folder_all_parse():
    with pytest.warns(AnnotatorWarning, match="annotations.jsonl"):  # the team's ratings beside the articles
        df = read_articles(SEEDS)
    assert len(df) == len(list(SEEDS.glob("*.txt"))) >= 5
    assert df["error"].isna().all()
    assert df["date"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    assert not df["text"].str.startswith(" date").any()
    assert list(df["id"]) == sorted(p.stem for p in SEEDS.glob("*.txt"))


def test_not_seed_when_prefix_differs(tmp_path):
    (tmp_path / "a.txt").write_text("date 2021-09-03 no leading space", encoding="utf-8")
    (tmp_path / "b.txt").write_text(" date 2021-13-45 not a real date", encoding="utf-8")
    df = read_articles([tmp_path / "a.txt", tmp_path / "b.txt"])
    assert list(df["text"]) == ["date 2021-09-03 no leading space", " date 2021-13-45 not a real date"]
    assert df["date"].isna().all()


def test_folder_recursive_sorted_and_stem_collisions(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "deep").mkdir(parents=True)
    (tmp_path / "z.txt").write_text("zed", encoding="utf-8")
    (tmp_path / "b" / "same.txt").write_text("from b", encoding="utf-8")
    (tmp_path / "a" / "deep" / "same.txt").write_text("from a", encoding="utf-8")
    (tmp_path / "a" / "unique.txt").write_text("unique", encoding="utf-8")
    (tmp_path / "a" / "ignored.csv").write_text("text\nnot read\n", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("hidden", encoding="utf-8")
    with pytest.warns(AnnotatorWarning, match=r"1 table file\(s\) beside the \.txt files not read \(a/ignored\.csv\)"):
        df = read_articles(tmp_path)
    assert list(df["id"]) == ["a/deep/same", "unique", "b/same", "z"]
    assert list(df["text"]) == ["from a", "unique", "from b", "zed"]
    assert df.loc[0, "source"] == os.path.join(str(tmp_path), "a", "deep", "same.txt")
    assert df["error"].isna().all()


def test_folder_of_tables_reads_every_table(tmp_path):
    (tmp_path / "part-1.jsonl").write_text('{"id": "b", "text": "second"}\n', encoding="utf-8")
    (tmp_path / "part-0.jsonl").write_text('{"id": "a", "text": "first"}\n', encoding="utf-8")
    (tmp_path / "_SUCCESS.csv").write_text("text\nmarker\n", encoding="utf-8")
    df = read_articles(tmp_path)
    assert list(df["id"]) == ["a", "b"] and df["error"].isna().all()


def test_cli_names_tables_a_folder_of_txt_does_not_read(tmp_path):
    (tmp_path / "one.txt").write_text("Officials said the rebels fled the valley overnight.", encoding="utf-8")
    (tmp_path / "ratings.jsonl").write_text('{"text": "x"}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["tag", str(tmp_path), "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    warning = [line for line in result.stderr.splitlines() if line.startswith("annotator: warning:")]
    assert len(warning) == 1 and "ratings.jsonl" in warning[0]


def test_empty_folder_is_an_error(tmp_path):
    df = read_articles(tmp_path)
    assert len(df) == 1 and "no .txt files" in df.loc[0, "error"]


def test_csv_with_id_and_metadata(tmp_path):
    f = tmp_path / "news.csv"
    pd.DataFrame({
        "id": [7, 8],
        "text": ["First, with a comma\nand a newline", "Second «quoted»"],
        "title": ["T1", ""],
        "date": ["2020-01-02", "2020-01-03"],
        "outlet": ["Daily", "Weekly"],
        "url": ["http://a", "http://b"],
        "extra": [1, 2],
    }).to_csv(f, index=False)
    df = read_articles(f)
    assert list(df["id"]) == ["7", "8"]
    assert df.loc[0, "text"] == "First, with a comma\nand a newline"
    assert df.loc[1, "title"] is None  # blank cell
    assert list(df["outlet"]) == ["Daily", "Weekly"]
    assert list(df["source"]) == [f"{f}:1", f"{f}:2"]
    assert df["error"].isna().all()


def test_custom_column_names(tmp_path):
    f = tmp_path / "custom.csv"
    pd.DataFrame({"doc": ["d1"], "body": ["Body text"], "headline": ["H"], "published": ["2022-02-02"],
                  "site": ["S"], "link": ["http://x"]}).to_csv(f, index=False)
    df = read_articles(f, id_column="doc", text_column="body", title_column="headline",
                       date_column="published", outlet_column="site", url_column="link")
    assert df.iloc[0][["id", "text", "title", "date", "outlet", "url"]].tolist() == [
        "d1", "Body text", "H", "2022-02-02", "S", "http://x"]
    j = write_jsonl(tmp_path / "custom.jsonl", [{"doc": 5, "body": "JSON body", "site": "S2"}])
    r = read_articles(j, id_column="doc", text_column="body", outlet_column="site").iloc[0]
    assert (r["id"], r["text"], r["outlet"], r["title"]) == ("5", "JSON body", "S2", None)


def test_content_hash_ids_stable(tmp_path):
    f = write_jsonl(tmp_path / "nohash.jsonl", [{"text": "Same text"}, {"text": "Other text"}, {"text": "Same text"}])
    a = read_articles(f)
    b = read_articles(f)
    expected = hashlib.sha1("Same text".encode("utf-8")).hexdigest()[:16]
    assert a.loc[0, "id"] == expected == a.loc[2, "id"] == b.loc[0, "id"]
    assert a.loc[1, "id"] != expected and len(a.loc[1, "id"]) == 16
    c = tmp_path / "nohash.csv"
    pd.DataFrame({"text": ["Same text"]}).to_csv(c, index=False)
    assert read_articles(c).loc[0, "id"] == expected


def test_jsonl_and_ndjson(tmp_path):
    rows = [{"id": "x1", "text": "One", "title": "T", "date": "2021-01-01"}, {"id": "x2", "text": "Two"}]
    for name in ("a.jsonl", "b.ndjson"):
        f = write_jsonl(tmp_path / name, rows)
        df = read_articles(f)
        assert list(df["id"]) == ["x1", "x2"]
        assert list(df["text"]) == ["One", "Two"]
        assert df.loc[0, "date"] == "2021-01-01" and df.loc[1, "date"] is None
        assert list(df["source"]) == [f"{f}:1", f"{f}:2"]


def test_parquet(tmp_path):
    f = tmp_path / "p.parquet"
    pq.write_table(pa.table({"id": [1, 2, None], "text": ["Alpha", "Beta", "Gamma"], "title": ["a", None, "c"]}), f)
    df = read_articles(f)
    assert list(df["text"]) == ["Alpha", "Beta", "Gamma"]
    assert df.loc[0, "id"] == "1" and df.loc[1, "title"] is None
    assert df.loc[2, "id"] == hashlib.sha1(b"Gamma").hexdigest()[:16]
    assert list(df["source"]) == [f"{f}:1", f"{f}:2", f"{f}:3"]
    assert df["error"].isna().all()


def test_multiple_inputs_keep_order(tmp_path):
    (tmp_path / "one.txt").write_text("one", encoding="utf-8")
    j = write_jsonl(tmp_path / "t.jsonl", [{"text": "two"}])
    df = read_articles([str(tmp_path / "one.txt"), j])
    assert list(df["text"]) == ["one", "two"]
    assert read_articles([]).columns.tolist() == ARTICLE_COLUMNS


# --- bad inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("data, fragment", [
    (b"", "empty"),
    (b"  \n\t \r\n", "empty"),
    (PNG, "binary"),
    (b"\x81\x8d\x8f\x90\x9d", "not UTF-8 or cp1252"),
])
def test_bad_txt_files_reported(tmp_path, data, fragment):
    f = tmp_path / "bad.txt"
    f.write_bytes(data)
    df = read_articles(f)
    assert len(df) == 1
    row = df.iloc[0]
    assert row["id"] == "bad" and row["text"] is None and row["source"] == str(f)
    assert fragment in row["error"] and str(f) in row["error"] and "\n" not in row["error"]
    with pytest.raises(AnnotatorError, match=fragment) as info:
        read_articles(f, errors="raise")
    assert str(f) in str(info.value)


def test_cp1252_fallback(tmp_path):
    f = tmp_path / "legacy.txt"
    f.write_bytes(b"caf\xe9 \x93quoted\x94")
    df = read_articles(f)
    assert df.loc[0, "error"] is None
    assert df.loc[0, "text"] == "café “quoted”"
    assert read_text_file(f) == "café “quoted”"


def test_utf8_bom_dropped(tmp_path):
    f = tmp_path / "bom.txt"
    f.write_bytes(b"\xef\xbb\xbfHello")
    assert read_articles(f).loc[0, "text"] == "Hello"
    c = tmp_path / "bom.csv"
    c.write_bytes(b"\xef\xbb\xbfid,text\nk,Body\n")
    assert read_articles(c).iloc[0][["id", "text"]].tolist() == ["k", "Body"]


def test_cp1252_csv(tmp_path):
    c = tmp_path / "legacy.csv"
    c.write_bytes(b"id,text\n1,caf\xe9 \x93quoted\x94\n")
    assert read_articles(c).loc[0, "text"] == "café “quoted”"


def test_missing_text_column_names_file_and_columns(tmp_path):
    c = tmp_path / "nocol.csv"
    c.write_text("id,body\n1,hello\n", encoding="utf-8")
    df = read_articles(c)
    assert len(df) == 1 and df.loc[0, "id"] == "nocol" and df.loc[0, "source"] == str(c)
    assert str(c) in df.loc[0, "error"] and "'text'" in df.loc[0, "error"] and "'body'" in df.loc[0, "error"]
    with pytest.raises(AnnotatorError, match="no 'text' column"):
        read_articles(c, errors="raise")
    p = tmp_path / "nocol.parquet"
    pq.write_table(pa.table({"body": ["x"]}), p)
    err = read_articles(p).loc[0, "error"]
    assert str(p) in err and "'body'" in err


def test_broken_jsonl_line_in_the_middle(tmp_path):
    f = write_jsonl(tmp_path / "broken.jsonl", [
        {"id": "a", "text": "first"},
        '{"id": "b", "text": "unterminated',
        "",
        "[1, 2]",
        {"id": "e", "text": "   "},
        {"id": "f", "body": "no text"},
        {"id": "g", "text": None},
        {"id": "h", "text": 42},
        {"id": "i", "text": "last"},
    ])
    df = read_articles(f)
    assert len(df) == 8  # the blank line is skipped, every other line accounted for
    assert list(df.loc[df.error.isna(), "id"]) == ["a", "i"]
    bad = df[df.error.notna()]
    assert bad.iloc[0]["error"].startswith(f"{f}:2: invalid JSON (")
    assert bad.iloc[0]["id"] == f"{f}:2" and bad.iloc[0]["source"] == f"{f}:2"
    assert bad.iloc[1]["error"] == f"{f}:4: not a JSON object (array)"
    assert bad.iloc[2]["error"] == f"{f}:5: empty text" and bad.iloc[2]["id"] == "e"
    assert bad.iloc[3]["error"].startswith(f"{f}:6: no 'text' field") and bad.iloc[3]["id"] == "f"
    assert bad.iloc[4]["error"].startswith(f"{f}:7: empty text")
    assert bad.iloc[5]["error"] == f"{f}:8: 'text' is not a string (number)"
    assert one(df, id="i")["source"] == f"{f}:9"
    with pytest.raises(AnnotatorError, match=r"broken\.jsonl:2: invalid JSON"):
        read_articles(f, errors="raise")


def test_broken_csv_row(tmp_path):
    f = tmp_path / "broken.csv"
    f.write_text('id,text,title\n1,good one,T\n2,too,many,fields\n3,"quoted, fine",T3\n\n4,short\n5,last,T5\n',
                 encoding="utf-8")
    df = read_articles(f)
    assert len(df) == 5
    assert list(df.loc[df.error.isna(), "id"]) == ["1", "3", "5"]
    assert one(df, id="3")["text"] == "quoted, fine"
    assert one(df, id="5")["source"] == f"{f}:5"
    errs = df.loc[df.error.notna(), "error"].tolist()
    assert errs[0] == f"{f}:2: expected 3 fields, found 4 (line 3)"
    assert errs[1] == f"{f}:4: expected 3 fields, found 2 (line 6)"
    with pytest.raises(AnnotatorError, match=r"broken\.csv:2: expected 3 fields"):
        read_articles(f, errors="raise")


def test_csv_quoting_errors_are_rows_with_errors(tmp_path):
    f = tmp_path / "quotes.csv"
    f.write_text('id,text\n1,"stray"quote\n2,fine\n3,"never closed\n4,swallowed\n5,swallowed too\n', encoding="utf-8")
    df = read_articles(f)
    assert list(df.loc[df.error.isna(), "id"]) == ["2"]
    errs = df.loc[df.error.notna(), "error"].tolist()
    assert errs[0].startswith(f"{f}:1: invalid CSV: ") and errs[0].endswith("(line 2)")
    assert errs[1] == (f"{f}:3: invalid CSV: a quoted field opened on line 4 never closes "
                       "(read to the end of the file, line 6)")
    assert not df["text"].fillna("").str.contains("swallowed").any()


def test_not_really_parquet(tmp_path):
    f = tmp_path / "fake.parquet"
    f.write_text("id,text\n1,hello\n", encoding="utf-8")
    df = read_articles(f)
    assert len(df) == 1 and df.loc[0, "id"] == "fake"
    assert df.loc[0, "error"].startswith(f"{f}: not a readable Parquet file")
    assert "\n" not in df.loc[0, "error"]
    with pytest.raises(AnnotatorError, match="not a readable Parquet"):
        read_articles(f, errors="raise")


def test_missing_path_and_unknown_extension(tmp_path):
    missing = tmp_path / "nope" / "gone.txt"
    doc = tmp_path / "report.docx"
    doc.write_bytes(b"PK\x03\x04")
    good = tmp_path / "ok.txt"
    good.write_text("fine", encoding="utf-8")
    df = read_articles([missing, doc, good])
    assert list(df["id"]) == ["gone", "report", "ok"]
    assert df.loc[0, "error"].startswith(f"{missing}: cannot read")
    assert df.loc[1, "error"].startswith(f"{doc}: unsupported file type '.docx'")
    assert df.loc[2, "error"] is None
    with pytest.raises(AnnotatorError, match="gone.txt: cannot read"):
        read_articles([good, missing], errors="raise")


def test_empty_tables(tmp_path):
    c = tmp_path / "empty.csv"
    c.write_bytes(b"")
    h = tmp_path / "header.csv"
    h.write_text("id,text\n", encoding="utf-8")
    j = tmp_path / "blank.jsonl"
    j.write_text("\n\n", encoding="utf-8")
    p = tmp_path / "zero.parquet"
    pq.write_table(pa.table({"text": pa.array([], pa.string())}), p)
    df = read_articles([c, h, j, p])
    assert len(df) == 4
    assert df["error"].str.contains("empty").all()
    assert [e.split(":")[0] for e in df["error"]] == [str(c), str(h), str(j), str(p)]


def test_binary_table_files(tmp_path):
    j = tmp_path / "bin.jsonl"
    j.write_bytes(PNG)
    c = tmp_path / "bin.csv"
    c.write_bytes(b"text\n" + PNG)
    df = read_articles([j, c])
    assert df["error"].str.contains("binary file").all()
    n = write_jsonl(tmp_path / "nul.jsonl", [{"text": "a\u0000b"}, {"text": "fine"}])
    df = read_articles(n)
    assert "binary" in df.loc[0, "error"] and df.loc[1, "error"] is None


def test_too_large(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("x" * 500, encoding="utf-8")
    small = tmp_path / "small.txt"
    small.write_text("y" * 50, encoding="utf-8")
    df = read_articles([big, small], max_bytes=100)
    assert df.loc[0, "error"] == f"{big}: too large (500 bytes > 100 bytes limit)"
    assert df.loc[1, "error"] is None
    j = write_jsonl(tmp_path / "big.jsonl", [{"text": "é" * 60}, {"text": "ok"}])  # 120 UTF-8 bytes
    df = read_articles(j, max_bytes=100)
    assert df.loc[0, "error"] == f"{j}:1: too large (120 bytes > 100 bytes limit)"
    assert df.loc[1, "text"] == "ok"
    with pytest.raises(AnnotatorError, match="too large"):
        read_articles(big, max_bytes=100, errors="raise")
    with pytest.raises(AnnotatorError, match=r"too large \(500 bytes"):
        read_text_file(big, max_bytes=100)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        read_articles("x.txt", errors="ignore")
    with pytest.raises(ValueError):
        iter_articles("x.txt", chunksize=0)


# --- streaming ----------------------------------------------------------------------------------


def test_iter_articles_chunks_equal_read_articles(tmp_path):
    f = tmp_path / "many.jsonl"
    with open(f, "w", encoding="utf-8") as out:
        for i in range(25_000):
            if i == 12_345:
                out.write("{not json\n")
            else:
                out.write(json.dumps({"id": f"a{i}", "text": f"Article {i} «text» 👍", "outlet": "o"}) + "\n")
    chunks = list(iter_articles(f, chunksize=10_000))
    assert [len(c) for c in chunks] == [10_000, 10_000, 5_000]
    whole = read_articles(f)
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)
    assert len(whole) == 25_000
    assert whole.loc[12_345, "error"].startswith(f"{f}:12346: invalid JSON")
    assert whole.loc[24_999, "id"] == "a24999"


def test_iter_articles_parquet_and_csv_batches(tmp_path):
    texts = [f"text {i}" for i in range(2_500)]
    p = tmp_path / "big.parquet"
    pq.write_table(pa.table({"text": texts}), p, row_group_size=700)
    c = tmp_path / "big.csv"
    pd.DataFrame({"text": texts}).to_csv(c, index=False)
    chunks = list(iter_articles([p, c], chunksize=1_000))
    assert [len(x) for x in chunks] == [1_000] * 5
    both = pd.concat(chunks)
    assert list(both["text"]) == texts + texts
    assert both.iloc[2_499]["source"] == f"{p}:2500" and both.iloc[2_500]["source"] == f"{c}:1"


def test_raise_mode_in_stream_stops_at_first_bad(tmp_path):
    f = write_jsonl(tmp_path / "s.jsonl", [{"text": "ok"}, "nope", {"text": "later"}])
    it = iter_articles(f, chunksize=1, errors="raise")
    with pytest.raises(AnnotatorError, match=r"s\.jsonl:2: invalid JSON"):
        list(it)


# --- writing and CLI ----------------------------------------------------------------------------


def test_write_articles_jsonl_atomic_roundtrip(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "Café 👍", "url": "http://u"}])
    out = tmp_path / "out.jsonl"
    out.write_text("old", encoding="utf-8")
    assert write_articles_jsonl(read_articles(src), out) == (1, 0)
    rec = json.loads(out.read_text(encoding="utf-8"))
    assert list(rec) == ARTICLE_COLUMNS and rec["text"] == "Café 👍"
    back = read_articles(out)
    assert back.iloc[0][["id", "text", "url"]].tolist() == ["a", "Café 👍", "http://u"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cli_articles_folder_with_bad_file(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("A good article.", encoding="utf-8")
    (folder / "image.txt").write_bytes(PNG)
    shutil.copy(SEEDS / "000_10cd50cdaed94430.txt", folder / "seed.txt")
    out = tmp_path / "articles.jsonl"
    runner = CliRunner()
    result = runner.invoke(main, ["articles", str(folder), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["good", "image", "seed"]
    assert rows[1]["error"] and "binary" in rows[1]["error"] and rows[1]["text"] is None
    assert rows[2]["date"] == "2021-09-03" and rows[2]["error"] is None
    assert "3 articles, 1 with errors" in result.stderr

    result = runner.invoke(main, ["articles", str(folder / "good.txt")], catch_exceptions=False)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["text"] == "A good article."


def test_cli_missing_path_strict_is_one_line_error(tmp_path):
    runner = CliRunner()
    missing = tmp_path / "missing.txt"
    out = tmp_path / "o.jsonl"
    result = runner.invoke(main, ["articles", "--strict", str(missing), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("annotator: error: ") and "missing.txt" in lines[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []

    result = runner.invoke(main, ["articles", str(missing)], catch_exceptions=False)
    assert result.exit_code == 0
    assert "cannot read" in json.loads(result.stdout)["error"]


def test_python_dash_m_annotator_is_the_cli(tmp_path):
    """`python -m annotator articles FILE` runs the same command as the console script."""
    import subprocess
    import sys

    (tmp_path / "a.txt").write_text("Sources said so.", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "annotator", "articles", str(tmp_path / "a.txt")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout.splitlines()[0])
    assert row["id"] == "a" and row["text"] == "Sources said so." and row["error"] is None
