"""错敏词 and 错别字: list hits, term guard, context detector, and the precision rules that apply
to all three (straddling hits, allow-contexts, date-aware entries, names); user lists; cache."""

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import SHARED, Route, findings_jsonl, govcheck, html, write_registry

from checks.words import (
    WordEntry,
    WordMatcher,
    build_automaton,
    check_words,
    detect_context,
    find_hits,
    in_a_name_list,
    looks_like_name,
)
from govcheck.page import ParsedPage, decode_html
from govcheck.wordlists import (
    WordlistError,
    confusion,
    load_automaton,
    load_entries,
    load_lists,
    load_matcher,
    parse_wordlist,
    registry_terms,
    term_variants,
)

LISTS = load_lists()          # wordlists only
WORDS = load_matcher()        # lists + term guard + context detector, as a scan runs


def words(text, matcher=LISTS, published=None):
    return [(h.word, h.category, h.correction) for h in find_hits(matcher, text, published)]


def found(text, matcher=WORDS, published=None):
    """(check, subject, correction, method, severity) of every finding on a page."""
    return sorted((f.check, f.subject, f.detail["correction"], f.detail["method"], f.severity)
                  for f in check_words("http://x.gov.cn/a.html", text, matcher, published=published))


def test_typo_with_correction():
    assert words("各单位要再接再励，确保完成任务。") == [("再接再励", "typo", "再接再厉")]


def test_cross_word_accidents_are_not_reported():
    a = build_automaton([WordEntry("口交", "sensitive"), WordEntry("按装", "typo", "安装")])
    assert words("该路口交通拥堵，请按装修要求施工。", a) == []
    assert words("请按装好设备。", a) == [("按装", "typo", "安装")]


def test_allow_context_suppresses():
    assert words("中华民国时期的档案已整理完毕。") == []
    assert words("中华民国史研究") == []
    assert [w for w, *_ in words("所谓“中华民国”的说法是错误的。")] == ["中华民国"]


def test_serious_formulations_and_leader_names():
    found = {w: (c, r) for w, c, r in words("不得称台湾政府。十九届八中全会。习近苹同志。")}
    assert found["台湾政府"] == ("serious", "台湾当局")
    assert found["十九届八中全会"][0] == "serious"
    assert found["习近苹"] == ("serious", "习近平")


def test_correct_text_is_clean():
    text = ("习近平总书记强调，要坚持以人民为中心的发展思想。台湾当局应当停止挑衅。十九届七中全会在北京召开。"
            "各单位要再接再厉，按部就班推进安装工程，依法治国，优化营商环境，落实应急预案，账户信息准确。")
    assert words(text) == []


def test_one_finding_per_page_and_word_with_contexts():
    [f] = check_words("http://x.gov.cn/a.html", "第一处再接再励。第二处再接再励。", LISTS)
    assert f.check == "word_typo" and f.subject == "再接再励" and f.detail["count"] == 2
    assert "【再接再励】" in f.evidence and "应为“再接再厉”" in f.evidence and len(f.detail["contexts"]) == 2


def test_list_format_and_errors(tmp_path):
    entries = parse_wordlist("# category: typo\n按装→安装\n# 注释\n# category: serious\n中华民国|allow:中华民国时期,中华民国史\n", "x.txt")
    assert entries[0] == WordEntry("按装", "typo", "安装", (), "x.txt:2")
    assert entries[1].allow == ("中华民国时期", "中华民国史") and entries[1].correction is None
    for bad, msg in [("按装→安装\n", "before any"), ("# category: bad\n", "unknown category"),
                     ("# category: typo\n→安装\n", "expected WORD"), ("# category: typo\n按装|deny:x\n", "unknown option"),
                     ("# category: typo\n按装|allow:安装\n", "must contain"),
                     ("# category: typo\n按装|before:1990-13-01\n", "needs a date"),
                     ("# category: typo\n按装|before:1990-01-01|before:1991-01-01\n", "given twice")]:
        with pytest.raises(WordlistError, match=msg):
            parse_wordlist(bad, "bad.txt")


def test_user_lists_merge_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVCHECK_CACHE_DIR", str(tmp_path / "cache"))
    extra = tmp_path / "ordos.txt"
    extra.write_text("# category: typo\n鄂尔多斯市人民政付→鄂尔多斯市人民政府\n", encoding="utf-8")
    a = WordMatcher(load_automaton([str(extra)], guard=False))
    assert words("鄂尔多斯市人民政付发布通知", a) == [("鄂尔多斯市人民政付", "typo", "鄂尔多斯市人民政府")]
    assert words("再接再励", a)  # bundled lists still there
    assert len(list((tmp_path / "cache").glob("*.automaton"))) == 1
    extra.write_text("# category: typo\n另一个错词→另一个正词\n", encoding="utf-8")
    load_automaton([str(extra)], guard=False)  # changed list → new cache entry, keyed by content
    assert len(list((tmp_path / "cache").glob("*.automaton"))) == 2


def test_cache_entries_not_opened_for_a_week_go_when_a_new_one_is_written(tmp_path, monkeypatch):
    # Each wordlist or model upgrade writes new entries (a context model's arrays are ~55 MB);
    # the ones no scan has opened for CACHE_KEEP_DAYS are removed, those in use are kept.
    import os
    import time

    import govcheck.wordlists as L

    cache = tmp_path / "cache"
    monkeypatch.setenv("GOVCHECK_CACHE_DIR", str(cache))
    cache.mkdir()
    month_ago = time.time() - 30 * 86400
    stale, recent, other = cache / "words-old.automaton", cache / "words-recent.automaton", cache / "context-old"
    stale.write_bytes(b"x")
    recent.write_bytes(b"x")
    other.mkdir()
    (other / "tri_keys.npy").write_bytes(b"x")
    for path in (stale, other):
        os.utime(path, (month_ago, month_ago))
    load_automaton(guard=False)
    (entry,) = [p for p in cache.glob("words-*.automaton") if p not in (stale, recent)]
    assert not stale.exists() and recent.exists()
    assert other.exists()     # a context entry goes only when a context entry is written
    os.utime(entry, (month_ago, month_ago))
    load_automaton(guard=False)          # opened again: in use, its age starts again
    assert entry.stat().st_mtime > month_ago + 86400
    L.context_arrays()                   # builds and writes this model's arrays
    assert not other.exists() and len(list(cache.glob("context-*"))) == 1
    assert L.CACHE_KEEP_DAYS < 30


def test_bundled_lists_sizes_and_headers():
    entries = load_entries()
    typo = [e for e in entries if e.category == "typo"]
    assert len(typo) >= 500 and all(e.correction for e in typo)
    for path in Path(__file__).resolve().parents[1].joinpath("wordlists").glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# govcheck bundled wordlist"), path.name
        assert ("What:" in text and "Sources:" in text) or "Generated by" in text, path.name


def corpus_texts():
    from govcheck.demo.sites import PARAGRAPHS, build_sites

    texts = list(PARAGRAPHS)
    for site in build_sites():
        for col in site.columns:
            for item in col.items:
                texts.append(item.title)
    pages = SHARED / "realpages" / "pages"
    if pages.is_dir():
        for p in sorted(pages.glob("*.html")):
            texts.append(ParsedPage("http://x.gov.cn/", decode_html(p.read_bytes(), None)[0]).visible_text)
    for p in sorted((Path(__file__).parent / "fixtures" / "dates").glob("*.html")):
        texts.append(ParsedPage("http://x.gov.cn/", decode_html(p.read_bytes(), None)[0]).visible_text)
    return texts


def test_bundled_lists_do_not_fire_on_correct_corpora():
    # Demo titles/paragraphs (before planting), real government pages, our fixture pages:
    # no list hit, no term-guard hit, no context hit.
    hits = [(f.subject, f.detail["method"], f.evidence) for text in corpus_texts()
            for f in check_words("http://x.gov.cn/", text, WORDS)]
    assert hits == []


def test_bad_user_list_is_exit_2_before_any_request(tmp_path, serve):
    server = serve({"www.w.gov.cn": {}})
    (tmp_path / "mine.txt").write_text("# category: typos\n错词\n", encoding="utf-8")
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "甲", "sites": [{"url": f"http://www.w.gov.cn:{server.port}/"}]}],
                              resolve={"www.w.gov.cn": "127.0.0.1"}, wordlists=["mine.txt"])
    proc = govcheck("scan", str(registry), "--db", str(tmp_path / "g.db"), check=False)
    assert proc.returncode == 2 and "mine.txt:1" in proc.stderr and "unknown category" in proc.stderr
    assert server.requests == []


# --- date-aware entries (|before: / |after:) ------------------------------------------------

def test_date_aware_entries_follow_the_publication_date():
    # 南朝鲜 was the usual name until China and the ROK established relations (1992-08-24)
    assert words("南朝鲜代表团抵京访问", published=dt.date(1990, 5, 1)) == []
    assert words("南朝鲜代表团抵京访问", published=dt.date(1992, 8, 24)) == [("南朝鲜", "serious", "韩国")]
    assert words("南朝鲜代表团抵京访问") == [("南朝鲜", "serious", "韩国")]       # undated page: the entry counts
    # 《第一批异形词整理表》 in force from 2002-03-31
    for old in ("两国贸易磨擦不断。", "清理帐目，办理转帐。", "不要糟踏粮食。"):
        assert words(old, published=dt.date(1998, 6, 1)) == [], old
        assert words(old, published=dt.date(2015, 6, 1)), old


def test_after_limits_an_entry_to_texts_before_the_date():
    [e] = parse_wordlist("# category: serious\n新称谓|after:2020-01-01\n", "x.txt")
    assert e.after == dt.date(2020, 1, 1) and e.before is None
    a = build_automaton([e])
    assert words("启用新称谓的通知", a, published=dt.date(2019, 12, 31)) == [("新称谓", "serious", None)]
    assert words("启用新称谓的通知", a, published=dt.date(2020, 1, 1)) == []


def test_date_aware_entries_apply_to_term_and_context_hits():
    # a term-guard variant listed with a date: the list's date decides for the term hit too
    a = load_matcher(context=False)
    dated = WordMatcher(build_automaton(load_entries() + parse_wordlist(
        "# category: typo\n人命政府→人民政府|before:2000-01-01\n", "u.txt"), a.sounds), a.sounds)
    assert found("县人命政府发布通告。", dated, published=dt.date(1995, 1, 1)) == []
    assert [x[1] for x in found("县人命政府发布通告。", dated, published=dt.date(2005, 1, 1))] == ["人命政府"]


def test_events_before_dates_the_sentence_by_its_nearest_year():
    # a 2021 artist's bio (issue 13, r16): the prize came in 1993, when 澳门政府 was the name
    bio = "1992年作品入选肇庆邀请展。 1993年参加三人作品展，荣获澳门第十届“全澳书画联展”冠军奖，并为澳门政府收藏。"
    assert words(bio, published=dt.date(2021, 3, 1)) == []
    # a sentence of today, or one without any year, keeps the hit; so does the handover year itself
    for text in ("2019年，澳门政府举办国际书画展。", "并为澳门政府收藏。", "1999年澳门政府成立。"):
        assert words(text, published=dt.date(2021, 3, 1)) == [("澳门政府", "serious", "澳门特别行政区政府")], text
    # the nearest year decides, not the first one; a decade counts to its last year
    assert words("1993年入选，2005年再获奖并为澳门政府收藏。") == [("澳门政府", "serious", "澳门特别行政区政府")]
    assert words("2005年再获奖，此前1993年已为澳门政府收藏。") == []
    assert words("20世纪80年代，香港政府推行新政。") == []
    assert words("1990年代，香港政府推行新政。") != []          # 1990s run past 1997-07-01
    # a text published before the date needs no year
    assert words("澳门政府宣布新措施。", published=dt.date(1995, 1, 1)) == []


def test_events_before_option_is_parsed_and_checked():
    [e] = parse_wordlist("# category: serious\n旧称→新称|events_before:2000-01-01\n", "x.txt")
    assert e.events_before == dt.date(2000, 1, 1) and e.before is None
    with pytest.raises(WordlistError, match="x.txt:2.*events_before: needs a date"):
        parse_wordlist("# category: serious\n旧称|events_before:2000\n", "x.txt")


def test_a_passage_printed_twice_is_one_finding_with_one_context():
    # PC and mobile copies of the same body on one page: count both, show the passage once
    body = "为确保完成今年全市经济社会发展各项目标任务，各单位要再接再励，狠抓工作落实，推动全市高质量发展不断取得新成效。"
    text = body + "首页 政务公开 政务服务 互动交流 " + body
    [f] = check_words("http://x.gov.cn/a.html", text, LISTS)
    assert f.detail["count"] == 2 and len(f.detail["contexts"]) == 1


def test_field_terms_jieba_lacks_are_not_mended():
    # 铜砭刮痧 (a 中医适宜技术) and 以情取势 (书画) are real: issue 13's r33 and r38 read them as 针砭, 趋势
    assert found("提供耳穴贴压、三伏贴、铜砭刮痧、推拿按摩等中医适宜技术服务。") == []
    assert found("逐渐形成以书法入笔，以情取势，大笔中书，一气成画的独特风格。") == []
    assert [x[1:3] for x in found("根据上级决册部署，抓好落实。")] == [("决册", "决策")]   # the detector still works


# --- segmentation-aware verification -------------------------------------------------------

def test_hit_straddling_two_words_of_the_clause_is_dropped():
    # 即定→既定 is listed; here the clause reads 即 | 定建设规模 ("namely: set the scale")
    assert words("实行“五定”，即定建设规模、定资金来源。") == []
    assert words("路口交通拥堵") == [] and words("请按装修要求施工。") == []
    assert words("请按装好设备。") == [("按装", "typo", "安装")]
    # a term variant is dropped the same way when it reads as other words: 主体|教育 (主题教育)
    assert found("开展学生主体教育活动。") == []


def test_wrong_formulations_stand_when_no_word_crosses_their_ends():
    assert [w for w, *_ in words("不得称台湾政府。")] == ["台湾政府"]


# --- allow-contexts -------------------------------------------------------------------------

def test_user_allow_context_applies_to_a_bundled_word(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVCHECK_CACHE_DIR", str(tmp_path / "cache"))
    mine = tmp_path / "mine.txt"
    mine.write_text("# category: serious\n中华民国|allow:中华民国大事记\n", encoding="utf-8")
    m = WordMatcher(load_automaton([str(mine)], guard=False))
    assert words("馆藏《中华民国大事记》一套。", m) == []
    assert words("所谓“中华民国”的说法是错误的。", m) == [("中华民国", "serious", None)]
    assert words("馆藏《中华民国大事记》一套。") == [("中华民国", "serious", None)]   # without the user list


def test_allow_context_applies_to_term_hits():
    a = load_matcher(context=False)
    allowed = WordMatcher(build_automaton(load_entries() + parse_wordlist(
        "# category: typo\n人命政府→人民政府|allow:人命政府剧组\n", "u.txt"), a.sounds), a.sounds)
    assert found("《人命政府剧组》拍摄花絮", allowed) == []
    assert [x[1] for x in found("县人命政府发布通告。", allowed)] == ["人命政府"]


# --- term guard ----------------------------------------------------------------------------

def test_term_guard_catches_confusable_variants_of_official_names():
    got = found("国务园办公厅印发通知，要求各级人命政府持续优化营商还境，市场监督馆里委员会负责落实。")
    assert ("word_serious", "国务园办公厅", "国务院办公厅", "term", None) in got      # institutions: serious
    assert ("word_serious", "人命政府", "人民政府", "term", None) in got             # 前后鼻音 min/ming
    assert ("word_typo", "优化营商还境", "优化营商环境", "term", None) in got
    assert ("word_typo", "监督馆里委员会", "监督管理委员会", "term", None) in got     # two homophones in a long term
    assert found("国务院办公厅印发通知，要求各级人民政府持续优化营商环境。") == []


def test_term_guard_shape_variants_and_idioms():
    assert [x[1:4] for x in found("各部门要认真落实，人民政俯将加强督查。")] == [("人民政俯", "人民政府", "term")]
    assert [x[1:4] for x in found("干部要脚踏石地做好工作。")] == [("脚踏石地", "脚踏实地", "term")]


def test_variants_that_are_words_are_not_kept():
    table = confusion()
    variants = term_variants("安装", table, is_word=lambda v: v == "按装")
    assert "按装" not in variants and variants
    assert "人名政府" not in term_variants("人民政府", table, is_word=lambda v: v == "人名政府")


def test_registry_unit_and_place_names_join_the_term_guard(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVCHECK_CACHE_DIR", str(tmp_path / "cache"))
    terms = registry_terms(["鄂尔多斯市东胜区人民政府", "伊金霍洛旗纳林陶亥镇人民政府"])
    assert {"鄂尔多斯市", "鄂尔多斯", "东胜区", "鄂尔多斯市东胜区", "伊金霍洛旗", "纳林陶亥镇"} <= set(terms)
    m = load_matcher(terms=terms, context=False)
    assert [x[1:3] for x in found("鄂尔多丝市召开会议，伊金霍洛旗纳林陶亥真参加。", m)] == [
        ("伊金霍洛旗纳林陶亥真", "伊金霍洛旗纳林陶亥镇"), ("鄂尔多丝市", "鄂尔多斯市")]
    assert found("鄂尔多斯市召开会议。", m) == []
    assert len(list((tmp_path / "cache").glob("*.automaton"))) == 1
    load_matcher(terms=terms, context=False)                            # cached: no second build
    assert len(list((tmp_path / "cache").glob("*.automaton"))) == 1


def test_names_are_not_corrected_by_the_term_guard():
    # 张国务园 reads as a person's name (surname 张 alone in front): not 国务院
    assert found("受邀嘉宾张国务园发言。") == []


# --- context detector ------------------------------------------------------------------------

def test_context_detector_reports_for_review_with_confidence():
    # 册 joins neither neighbour into a word; 决策 mends the clause under both models
    [f] = check_words("http://x.gov.cn/a.html", "根据上级决册部署，抓好落实。", WORDS)
    assert (f.check, f.subject, f.detail["correction"], f.detail["method"], f.severity) == (
        "word_typo", "决册", "决策", "context", "review")
    assert 0.5 < f.detail["confidence"] <= 1 and "【决册】" in f.evidence and f.detail["substitution"] == "册→策"


def test_context_detector_needs_the_model():
    assert found("根据上级决册部署，抓好落实。", load_matcher(context=False)) == []


def test_context_detector_leaves_names_and_modern_words_alone():
    model = WORDS.context
    for text in ("浙江省委书记易炼红、安徽省委书记韩俊先后发言。", "国务院副总理何立峰与东布罗夫斯基斯举行会谈。",
                 "深化合作、相互赋能，把各地优势变为区域优势。", "中国政府网微博、微信公众号同步发布。"):
        assert detect_context(model, text) == [], text


def test_context_detector_mends_slips_that_make_a_word_with_either_neighbour():
    # candidates come from one vectorised pass: a character that forms no dictionary word with
    # either neighbour, and a confusable substitute that does (水平)
    assert [x[1:4] for x in found("全面提升政务服务水品，方便群众办事。")] == [("服务水品", "服务水平", "context")]


def test_context_detector_mends_slips_that_complete_a_word_of_three():
    # 锦标赛, 新加坡: no pair of the mended word is a word of two (标赛, 加坡)
    model = WORDS.context
    assert [(h.word, h.correction) for h in detect_context(model, "新建的体育馆将承办全国青少年锦标鳃。")] == [("锦标鳃", "锦标赛")]
    assert [(h.word, h.correction) for h in detect_context(model, "中国驻新加破大使馆举行招待会。")] == [("新加破", "新加坡")]
    # not for a character that stands alone in prose (使: 市辖区), nor into a person's name of
    # jieba's dictionary (李晓华): both on real pages
    assert detect_context(model, "社区开展书法培训活动，使辖区内的书法爱好者齐聚一堂。") == []
    assert detect_context(model, "设计师李效华负责人表示。") == []


def test_context_detector_catches_the_slips_of_official_prose():
    # one mistyped character (mostly a same-pinyin IME slip) in the words official texts repeat
    model = WORDS.context
    for text, wrong, right in (("各级领导干哺对此不能掉以轻心。", "干哺", "干部"),        # 干 is a surname, rarely: no name here
                               ("请各乡镇于本月底前报送统计数剧。", "统计数剧", "统计数据"),
                               ("进一步优化办事流程，提高行政效律。", "行政效律", "行政效率"),
                               ("认真做好防汛抗旱工做。", "工做", "工作"),
                               ("坚持以人民为中心的发展思像。", "思像", "思想"),
                               ("加快推进乡村振兴战略时施。", "时施", "实施")):
        assert [(h.word, h.correction) for h in detect_context(model, text)] == [(wrong, right)], text


def test_context_detector_leaves_proper_names_and_official_phrases_alone():
    # seen on real pages (issue 13): a person before 等同志, an institution before 眼科医院, a
    # place name before the next word (市|扬尘), 居全市第一, 科创板
    model = WORDS.context
    for text in ("宜春市人民政府关于肖叶林等同志免挂任职务的通知", "诚济医院、康慈体检中心、博视眼科医院、泰康老年护理院",
                 "《鄂尔多斯市扬尘污染防治条例》解读", "省级产业技术创新战略联盟2个，获批数居全市第一；",
                 "主板公司51家，创业板公司20家，科创板公司5家。", "（山东省枣庄市李论）", "局长阿兰·卡哈尼达会见代表团。",
                 "书法篆刻家梅舒适、书法家受川宗央，大韩民国国会议员崔凤九先生",
                 "建设银行、第一太平戴维斯、仲量联行、戴德梁行、高力国际"):
        assert detect_context(model, text) == [], text


def test_context_detector_leaves_a_name_in_a_list_of_names_alone():
    # 范 is none of the corpus's commonest surnames; seven names around say 范为超 is a name (not 范围)
    model = WORDS.context
    text = "湘潭艺术家曾景祥、王志坚、张绪军、李志明、张勇、陈纯毅、蒋正杨、范为超等应邀来到现场。"
    assert detect_context(model, text) == []
    assert [h.word for h in detect_context(replace(model, family_names=frozenset()), text)] == ["范为"]
    # a slip in an enumeration of terms is still a slip, and so is one in a list after names
    assert [(h.word, h.correction) for h in detect_context(model, "优化营商还境、放管服改革、政务公开。")] == [
        ("营商还境", "营商环境")]
    assert [(h.word, h.correction) for h in detect_context(model, "李明、张伟、王刚、政务公开还境。")] == [
        ("还境", "环境")]
    # the second reading of 工做's clause reads eight characters around it (正杨、欧阳子健、范为超): the
    # name it would mend is judged in the whole text
    text = "王志坚、张绪军、李志明、张勇、陈纯毅、蒋正杨、欧阳子健、范为超等来到现场指导工做。"
    assert [(h.word, h.correction) for h in detect_context(model, text)] == [("工做", "工作")]


def test_name_list_guard_reads_the_items_around_the_suspect():
    family = WORDS.context.family_names

    def guarded(text, at):
        return in_a_name_list(text, text.index(at), family)

    assert guarded("张勇、陈纯毅、蒋正杨、范为超等应邀出席。", "为")       # the last item ends at 等
    assert guarded("张勇、陈纯毅、蒋正杨、范为超等人出席。", "为")
    assert guarded("张勇 陈纯毅 蒋正杨 范为超", "为")                       # spaces between the items
    assert guarded("张勇，陈纯毅，蒋正杨，范为超出席会议。", "为")           # the last item runs on
    assert not guarded("张勇，陈纯毅，蒋正杨，范为超出席会议。", "席")
    assert guarded("胡可、欧阳山尊、于是之、郑邦玉", "尊")                   # a compound family name
    assert guarded("陈纯毅、蒋正杨、范为超等应邀出席。", "为")                # three names, the suspect's one of them
    assert not guarded("蒋正杨、范为超等应邀出席。", "为")
    assert not guarded("张勇、陈纯毅、蒋正杨、范为超、营商环境、政务公开、放管服", "为")   # 4 of 7
    assert not guarded("经济、政治、文化、社会、生态", "化")                   # common words (经济, 文化)
    assert not guarded("交通运输部 水利部 农业部 商务部", "利")                # organs
    assert not guarded("湘潭艺术家曾景祥、王志坚、张绪军、李志明", "景")       # the list's head: no item


def test_context_detector_leaves_a_mend_that_trades_one_reading_for_another():
    # modern official prose: 新建|涉|危险废物 mended to 建设 would take 建 from 新建 (涉 a productive
    # prefix: 涉企, 涉案), 使|供给 mended to 提供 takes 供 from 供给; both written pairs (建涉, 使供)
    # occur in the language
    model = WORDS.context
    for text in ("筑牢危险废物源头防线。新建涉危险废物建设项目，严格落实建设项目危险废物环境影响评价。",
                 "增加公共产品和公共服务供给，使供给和需求协同促进经济发展。"):
        assert detect_context(model, text) == [], text


def test_context_detector_mends_a_slip_that_makes_an_accidental_word_with_a_neighbour():
    # the mend takes back a neighbour the slip left in an accidental word: a rare one (工作服|坞),
    # a common one where the written pair never occurs in the language (在校|歪: 校歪, 各部|闷:
    # 部闷); 在|实|计工|坐: the slip 计 is itself in the rare word 计工 (坐 found by the second reading)
    model = WORDS.context
    for text, hits in (("对在校歪实践教育工作中作出显著成绩的单位和个人给予表彰。", [("校歪", "校外")]),
                       ("加强社会工作服坞组织标准化建设。", [("服坞", "服务")]),
                       ("区人民政府及其各部闷和乡、镇人民政府的财政收支", [("部闷", "部门")]),
                       ("我们在实计工坐中不断总结经验。", [("实计", "实际"), ("工坐", "工作")])):
        assert [(h.word, h.correction) for h in detect_context(model, text)] == hits, text


def test_name_guard_reads_titles_next_to_the_span():
    # a title of two or more characters that ends at most two characters before the span, a
    # title (or a one-character reporting word) right after it
    no_surnames = frozenset()
    assert looks_like_name("省委书记易炼红", 4, 6, no_surnames)          # 书记|易炼
    assert looks_like_name("省委书记易炼红", 5, 7, no_surnames)          # 书记 易|炼红
    assert looks_like_name("董事长甲乙丙丁", 4, 6, no_surnames)          # a three-character title
    assert not looks_like_name("省委书记甲乙丙丁", 7, 8, no_surnames)    # 书记 ends three before
    assert looks_like_name("甲乙摄影", 0, 2, no_surnames) and looks_like_name("甲乙表示", 0, 2, no_surnames)
    assert not looks_like_name("甲乙表", 0, 2, no_surnames) and not looks_like_name("甲乙丙丁", 0, 2, no_surnames)
    assert not looks_like_name("省委书记易炼红", 4, 6, no_surnames, after=False)


def test_a_name_follows_its_title_not_a_verb_of_saying_nor_a_comma():
    # what follows 表示 is what was said; after 强调， a new clause starts: no name there
    model = WORDS.context
    assert [(h.word, h.correction) for h in detect_context(model, "他表示相行这次合作一定会取得成功。")] == [("相行", "相信")]
    assert [(h.word, h.correction) for h in detect_context(model, "市长强调，坚绝打赢污染防治攻坚战。")] == [("坚绝", "坚决")]
    no_surnames = frozenset()
    assert not looks_like_name("市长强调，甲乙丙", 5, 6, no_surnames) and looks_like_name("市长强调甲乙丙", 4, 5, no_surnames)
    assert looks_like_name("记者 甲乙丙 报道", 3, 4, no_surnames) and not looks_like_name("表示甲乙", 2, 3, no_surnames)


def test_a_suspect_written_twice_the_same_way_is_a_term_of_the_text():
    model = WORDS.context
    once = "全面提升政务服务水品，方便群众办事。"
    assert detect_context(model, once) and detect_context(model, once + once) == []


def test_allow_context_applies_to_context_hits():
    a = WORDS
    allowed = WordMatcher(build_automaton(load_entries() + parse_wordlist(
        "# category: typo\n决册→决策|allow:上级决册\n", "u.txt"), a.sounds), a.sounds, a.context)
    assert found("根据上级决册部署，抓好落实。", allowed) == []


def test_guarded_terms_as_written_cover_context_hits():
    # 因城施策 (every government work report since 2016): the n-gram scorer alone reads 城施 as a
    # slip of 城市; written as the term guard lists it, no method mends a character inside it
    text = "加大城镇老旧小区改造力度，因城施策促进房地产市场平稳健康发展。"
    assert any(h.word == "城施" for h in detect_context(WORDS.context, text))
    assert found(text) == []
    # the formulation of the 2018 and 2019 reports is a term of its own, not a variant of 减税降费
    assert found("深入推进简政减税减费。取消一批行政许可事项。") == []
    assert found("坚持源头控制、产管并重、重典治乱。") == []
    # a slip in the same sentence is still read: the cover is the term's own span
    assert found("因城施策促进房地产市场平稳健康发展，全面提升政务服务水品。") == [
        ("word_typo", "服务水品", "服务水平", "context", "review")]


@pytest.mark.slow
def test_scan_dates_entries_by_the_page_and_guards_the_registry_names(tmp_path, serve):
    # End to end: the article's own publication date decides |before: entries; the unit's own
    # name (from the registry) is guarded; a context hit is listed for review.
    host = "www.dsq.gov.cn"
    pages = {
        "/": Route(body=html("东胜区人民政府", '<a href="/old.html">旧闻</a><a href="/new.html">新闻</a>')),
        "/old.html": Route(body=html("旧闻", "<p>发布时间：1990-05-01</p><p>南朝鲜贸易代表团抵达，双方贸易磨擦有所缓和。</p>")),
        "/new.html": Route(body=html("新闻", "<p>发布时间：2024-04-01</p><p>南朝鲜代表团抵达。东胜趋人民政府召开会议，"
                                           "根据上级决册部署，抓好落实。</p>")),
    }
    server = serve({host: pages})
    registry = write_registry(tmp_path / "sites.yaml", [{"name": "东胜区人民政府", "sites": [{"url": f"http://{host}:{server.port}/"}]}],
                              resolve={host: "127.0.0.1"})
    govcheck("scan", str(registry), "--db", str(tmp_path / "g.db"), "--as-of", "2024-04-19")
    got = {(r["check"], r["url"].rsplit("/", 1)[-1], r["subject"], r["detail"]["method"], r["severity"])
           for r in findings_jsonl(tmp_path / "g.db") if r["check"].startswith("word_")}
    assert got == {("word_serious", "new.html", "南朝鲜", "list", "veto"),
                   ("word_typo", "new.html", "东胜趋人民政府", "term", "deduct"),
                   ("word_typo", "new.html", "决册", "context", "review")}
