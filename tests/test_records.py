from autogloss.records import (IGTRecord, Language, backoff_key, check_alignment, is_grammatical, is_lexical,
                               join_morphemes, morphemes, split_keep_boundaries, squash_space, words)


def test_word_and_morpheme_views():
    record = IGTRecord(id="1", transcription="Esnazał xizaz", segmentation="esyu-bi-ł xizaz",
                       glosses="sister-PL-CONT.ESS behind")
    assert record.transcription_words == ["Esnazał", "xizaz"]
    assert record.segmentation_morphemes == [["esyu", "bi", "ł"], ["xizaz"]]
    assert record.gloss_morphemes == [["sister", "PL", "CONT.ESS"], ["behind"]]
    assert morphemes("la=tot ni-tij=ti") == [["la", "tot"], ["ni", "tij", "ti"]]
    assert words(None) == [] and words("  a   b ") == ["a", "b"]


def test_aligned_record_has_no_problems():
    record = IGTRecord(id="ok", transcription="a b", segmentation="x-y z=w", glosses="X-Y Z=W")
    assert check_alignment(record) == []


def test_rule_1_word_count_mismatch_is_reported():
    record = IGTRecord(id="r1", transcription="Ixiw raład boqno", glosses="big sea")
    [problem] = check_alignment(record)
    assert problem.rule == 1
    assert "3 transcription words but 2 gloss words" in problem.message


def test_rule_2_morpheme_mismatch_names_the_word():
    record = IGTRecord(id="r2", transcription="boqno raład", segmentation="b-oq-n raład", glosses="III-become raład")
    [problem] = record.alignment_problems()
    assert problem.rule == 2 and problem.word_index == 0
    assert "'b-oq-n' has 3 morphemes" in str(problem) and "word 1" in str(problem)


def test_unsegmented_transcription_is_not_checked_for_morphemes():
    record = IGTRecord(id="u", transcription="boqno", glosses="III-become-PST")
    assert check_alignment(record) == []


def test_segmented_transcription_counts_as_the_object_line():
    record = IGTRecord(id="s", transcription="b-oq-n", glosses="III-become", is_segmented=True)
    assert [p.rule for p in check_alignment(record)] == [2]


def test_unglossed_records_pass_and_equality_ignores_origin():
    a = IGTRecord(id="x", transcription="a b", origin="f:1", language=Language("Tsez", "ddo", "dido1241"))
    b = a.replace(origin="g:9")
    assert check_alignment(a) == [] and a == b


def test_morphemes_keep_their_boundaries_and_join_back():
    assert split_keep_boundaries("la=tot-ni") == (["la", "tot", "ni"], ["=", "-"])
    assert split_keep_boundaries("a--b") == (["a", "", "b"], ["-", "-"])
    for word in ("la=tot-ni", "a--b", "plain", "-x", "y="):
        assert join_morphemes(*split_keep_boundaries(word)) == word
    assert join_morphemes(["DOG", "PL"], ["="]) == "DOG=PL"


def test_the_backoff_key_folds_case_and_strips_edge_punctuation_only():
    assert backoff_key("«Ixiw,»") == "ixiw"
    assert backoff_key("don't") == "don't"
    assert backoff_key("+x") == "+x"  # a symbol, not punctuation
    assert backoff_key("...") == ""


def test_label_kinds_and_whitespace():
    assert is_grammatical("3SG") and is_grammatical("PL") and not is_grammatical("sit.PL")
    assert is_lexical("sit.PL") and not is_lexical("Jacob") and not is_lexical("PL")
    assert squash_space("  a \t b\n") == "a b"
