"""Writing then reading any record gives the same record back."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autogloss.formats.sigmorphon import read_sigmorphon, write_sigmorphon
from autogloss.formats.store import read_store, write_store
from autogloss.records import IGTRecord, Language

# Words of any script, with punctuation and Leipzig boundaries, but no whitespace.
word = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters="\ufeff\x85"),
               min_size=1, max_size=8)
line = st.lists(word, min_size=1, max_size=6).map(" ".join)
maybe_line = st.none() | line
optional_text = st.none() | st.text(max_size=12)


def tiers(glosses=st.just("") | line):
    return dict(transcription=line, segmentation=maybe_line, pos=maybe_line, glosses=glosses, translation=maybe_line)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries(tiers()), min_size=1, max_size=5))
def test_shared_task_format_round_trip(tmp_path, tier_values):
    records = [IGTRecord(id=f"f-{i + 1}", **values) for i, values in enumerate(tier_values)]
    path = tmp_path / "f"
    write_sigmorphon(records, path)
    assert list(read_sigmorphon(path, id_prefix="f-")) == records


language = st.builds(Language, name=optional_text, iso639_3=optional_text, glottocode=optional_text)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.builds(IGTRecord, id=st.text(max_size=10), language=language, metalanguage=optional_text,
                          is_segmented=st.none() | st.booleans(), source=optional_text, split=optional_text,
                          license=optional_text, glosses_original=optional_text, origin=optional_text,
                          **{k: v for k, v in tiers(st.text(max_size=20)).items()}), max_size=5))
def test_store_round_trip(tmp_path, records):
    path = tmp_path / "records.parquet"
    write_store(records, path)
    back = list(read_store(path))
    assert back == records
    assert [r.origin for r in back] == [r.origin for r in records]
