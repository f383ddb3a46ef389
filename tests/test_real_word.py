"""Real-word slips of the context detector (issue 14): a two-character dictionary word written for
a more common one of the same pinyin (时侯 for 时候), which suspects() never looks at."""

from checks.words import BASE, detect_context, detect_real_word, real_word_candidates
from govcheck.wordlists import load_matcher

MODEL = load_matcher().context


def test_real_word_slips_of_official_prose_are_mended():
    for text, wrong, right in (("各单位在检查的时侯要做好记录，及时上报。", "时侯", "时候"),
                               ("活动给群众留下了良好的印像。", "印像", "印象"),
                               ("明天是你的生日，我决定请你吃饭，下课的时侯我们都去西门吃饭吧", "时侯", "时候")):
        assert [(h.word, h.correction, h.method) for h in detect_context(MODEL, text)] == [(wrong, right, "context")], text


def test_words_that_are_right_where_they_stand_are_left_alone():
    # the clean-text candidates that came nearest the thresholds: 时艰/保户/冀中 in the held-out
    # People's Daily, 形势/音像/初期/厂区/丰林 on real pages (each a likelier word one slip away)
    for text in ("泰人助泰共渡时艰", "今年是本钢１５万职工１０年期简易人身险还本期，涉及全民、集体、劳服等大小单位",
                 "冀中军民奋起抗战。", "要坚持问题导向，认真分析当前面临的形势。", "市音像资料馆开放时间调整。",
                 "建设初期投入较大。", "园区厂区内道路整洁。", "会议结束的时候大家都很高兴，留下了深刻的印象。"):
        assert detect_real_word(MODEL, text) == {}, text


def test_candidates_turn_one_word_into_another_of_the_same_pinyin():
    pos, alt, gain, first = real_word_candidates(MODEL, "下课的时侯我们都去西门吃饭")
    found = {(int(q), chr(int(a) + BASE), bool(f)) for q, a, f in zip(pos, alt, first)}
    assert (4, "候", False) in found
    assert all(g >= 7.0 for g in gain)
    # a clause shorter than five Chinese characters is a menu item or a heading fragment
    assert len(real_word_candidates(MODEL, "时侯")[0]) == 0
