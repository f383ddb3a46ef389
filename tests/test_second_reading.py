"""The second reading of the context detector (issue 14): a clause with two slips, each judged
the first time against a neighbour that is the other slip, gets both found once the first hit is
mended and the clause read again; the sentence with either slip alone and the clean sentence
read exactly as before. Sentences of the development text (People's Daily 1998-01, held out)
with two slips planted, not SIGHAN's."""

import checks.words as words
from checks.words import detect_context, first_reading, suspects
from govcheck.wordlists import load_matcher

MODEL = load_matcher().context
# (the clause with both slips, [(slip, correction), ...] in order, the clean clause)
TWO_SLIPS = (("后续资金物资将继续用于灾后的仲建恭作", [("仲建", "重建"), ("恭作", "工作")], "后续资金物资将继续用于灾后的重建工作"),
             ("北京市实行寄关工拙人员戴胸卡上岗", [("寄关", "机关"), ("工拙人员", "工作人员")], "北京市实行机关工作人员戴胸卡上岗"),
             ("吕梁是国家级贫困地区，但又是煤焦子源份富的大区", [("子源", "资源"), ("份富", "丰富")],
              "吕梁是国家级贫困地区，但又是煤焦资源丰富的大区"),
             ("全面贯彻落实十五大踢出芽各项任务", [("踢出", "提出"), ("芽", "的")], "全面贯彻落实十五大提出的各项任务"))


def found(text: str) -> list[tuple[str, str]]:
    return [(h.word, h.correction) for h in detect_context(MODEL, text)]


def test_both_slips_of_a_clause_are_found():
    for text, slips, _ in TWO_SLIPS:
        assert found(text) == slips, text
        assert len(first_reading(MODEL, text)) == 1, text     # the first reading alone finds one of them


def test_one_slip_and_the_clean_clause_are_read_as_before():
    for text, slips, clean in TWO_SLIPS:
        assert found(clean) == [] and first_reading(MODEL, clean) == [], clean
        for k, (slip, right) in enumerate(slips):
            # the clause with only this slip: the other one mended
            other, other_right = slips[1 - k]
            at = text.index(other)
            one = text[:at] + other_right + text[at + len(other):]
            assert found(one) == [(slip, right)], one
            assert detect_context(MODEL, one) == first_reading(MODEL, one), one


def test_second_reading_hits_carry_the_written_text_and_its_context():
    text = TWO_SLIPS[0][0]
    hit = next(h for h in detect_context(MODEL, text) if h.word == "仲建")
    assert text[hit.start:hit.end] == "仲建" and "【仲建】恭作" in hit.context and hit.method == "context"
    assert 0.5 < hit.confidence <= 1.0


# A slip the first reading lets pass alone (全倡 beside 全厂 is no hit of its own) is found in a
# clause that has another slip: the second reading's thresholds are SECOND_SLACK lower.
SLACK_SLIPS = (("经过全倡上下的齐心努砾", [("全倡", "全厂"), ("努砾", "努力")], "经过全倡上下的齐心努力"),
               ("是什么促使这阁当年湖北中医学院的高材生堰究市场呢", [("这阁", "这个"), ("堰究", "研究")],
                "是什么促使这阁当年湖北中医学院的高材生研究市场呢"))


def test_a_clause_with_a_slip_is_read_again_with_lower_thresholds(monkeypatch):
    for text, slips, alone in SLACK_SLIPS:
        assert found(text) == slips, text
        assert found(alone) == [], alone          # the weaker slip alone: not found, as before
    monkeypatch.setattr(words, "SECOND_SLACK", 0.0)
    for text, slips, _ in SLACK_SLIPS:
        assert found(text) == slips[1:], text


# A slip that forms a word with a neighbour by chance (计工, 基体, 地圈) is no suspect of the
# n-gram pass; beside another slip the second reading weighs it all the same (first_reading's `every`).
EVERY_SLIPS = (("在实计工坐中也取得了好的效果", [("实计", "实际"), ("工坐", "工作")], 2, "在实际工作中也取得了好的效果"),
               ("参加农舔水利基体建设", [("农舔水利", "农田水利"), ("基体建设", "基本建设")], 7, "参加农田水利基本建设"),
               ("促进地圈生倡力合理布局", [("地圈", "地区"), ("生倡力", "生产力")], 3, "促进地区生产力合理布局"))


def test_the_second_reading_weighs_characters_that_form_a_word_with_a_neighbour():
    for text, slips, q, clean in EVERY_SLIPS:
        assert found(text) == slips, text
        first = first_reading(MODEL, text)
        assert len(first) == 1 and not first[0].start <= q < first[0].end, text
        h = first[0]
        mended = text[:h.start] + h.correction + text[h.end:]
        assert q not in suspects(MODEL, mended).tolist(), mended
        assert not any(g.start <= q < g.end for g in first_reading(MODEL, mended, words.SECOND_SLACK)), mended
        assert any(g.start <= q < g.end and g.correction == clean[g.start:g.end]
                   for g in first_reading(MODEL, mended, words.SECOND_SLACK, every=True)), mended
        # alone, with the other slip mended, that slip is not found; the clean clause has no hit
        assert found(mended) == [] and found(clean) == [], mended
