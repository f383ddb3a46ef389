"""The term guard's lexicon (wordlists/terms): what it must hold, and how place names and
variants of official names are read."""

from checks.words import fixed_tail
from govcheck.wordlists import load_terms, place_forms, place_stem, sound_table

TERMS = dict(load_terms())

# 国务院组成部门 (国发〔2023〕5号): 26 of them, and a sample of the other State Council bodies
CONSTITUENT = ("外交部 国防部 国家发展和改革委员会 教育部 科学技术部 工业和信息化部 国家民族事务委员会 公安部 国家安全部 民政部 "
               "司法部 财政部 人力资源和社会保障部 自然资源部 生态环境部 住房和城乡建设部 交通运输部 水利部 农业农村部 商务部 "
               "文化和旅游部 国家卫生健康委员会 退役军人事务部 应急管理部 中国人民银行 审计署").split()
OTHER_CENTRAL = ("国务院国有资产监督管理委员会 海关总署 国家税务总局 国家市场监督管理总局 国家金融监督管理总局 国家广播电视总局 "
                 "国家体育总局 国家信访局 国家统计局 国家知识产权局 国家国际发展合作署 国家医疗保障局 国务院参事室 国家机关事务管理局 "
                 "国务院研究室 新华通讯社 中国科学院 中国社会科学院 中国工程院 国务院发展研究中心 中央广播电视总台 中国气象局 "
                 "国家数据局 国家移民管理局 国家烟草专卖局 国家国防科技工业局 中国证券监督管理委员会").split()
PARTY_NPC_COURTS = ("纪委监委 中央纪律检查委员会 组织部 宣传部 统战部 全国人民代表大会常务委员会 法制工作委员会 "
                    "中国人民政治协商会议全国委员会 最高人民法院 最高人民检察院 中级人民法院 人民法庭").split()
LOCAL = ("人民政府办公室 发展和改革委员会 市场监督管理局 生态环境局 住房和城乡建设局 人力资源和社会保障局 "
         "卫生健康委员会 行政审批和政务服务局 街道办事处").split()
POLICY = "放管服 营商环境 一网通办 最多跑一次 乡村振兴 高质量发展 中国式现代化 两个维护 两个确立 全过程人民民主".split()
PROVINCES = ("北京市 天津市 河北省 山西省 内蒙古自治区 辽宁省 吉林省 黑龙江省 上海市 江苏省 浙江省 安徽省 福建省 江西省 山东省 "
             "河南省 湖北省 湖南省 广东省 广西壮族自治区 海南省 重庆市 四川省 贵州省 云南省 西藏自治区 陕西省 甘肃省 青海省 "
             "宁夏回族自治区 新疆维吾尔自治区 台湾省 香港特别行政区 澳门特别行政区").split()


def test_the_lexicon_holds_every_family():
    for name in CONSTITUENT + OTHER_CENTRAL + PARTY_NPC_COURTS + LOCAL:
        assert TERMS.get(name) == "serious", name
    for name in POLICY + PROVINCES + ["鄂尔多斯市", "鄂尔多斯", "东胜区", "天祝藏族自治县"]:
        assert TERMS.get(name) == "typo", name


def test_place_stems():
    assert place_stem("天祝藏族自治县") == "天祝"
    assert place_stem("围场满族蒙古族自治县") == "围场"
    assert place_stem("巴音郭楞蒙古自治州") == "巴音郭楞"
    assert place_stem("内蒙古自治区") == "内蒙古"      # 蒙古 is a nationality, but 内 alone is no stem
    assert place_stem("宜州市") == "宜州"
    assert place_stem("忠县") is None
    assert place_stem("人民政府") is None
    forms = place_forms(["宜州市", "伊州区"])
    assert "宜州区" in forms["伊州区".translate(sound_table())]


def test_where_a_kind_character_may_be_a_slip():
    assert fixed_tail("伊金霍洛旗纳林陶亥镇", "伊金霍洛旗纳林陶亥真")   # a long stem that is no word
    assert fixed_tail("人民政府", "人民政俯")                         # 府 names no kind
    assert fixed_tail("国务院", "国务园")
    assert not fixed_tail("岳阳市", "岳阳是", "沿")                   # a place's kind stays as written
    assert not fixed_tail("辽宁省", "辽宁沈", "飞")
    # an organ's kind after a word stem: a rare character that opens no word is a slip
    assert fixed_tail("委员会", "委员灰", "，", organ=True)
    assert not fixed_tail("生态环境部", "生态环境不", "存", organ=True)   # 不 is prose
    assert not fixed_tail("委员会", "委员汇", "报", organ=True)           # 汇报 is a word


def test_townships_are_names_and_the_distinctive_ones_guarded():
    """wordlists/terms/townships.txt (2023 division codes): every township a name; guarded (its
    variants slips) only where the stem has three characters or more and is no word."""
    from govcheck.wordlists import TOWNSHIPS, names

    towns = dict(load_terms([TOWNSHIPS]))
    assert towns["塔尔气镇"] == "typo" and TERMS["塔尔气镇"] == "typo"
    assert towns["东华门街道"] == "name"     # 东华门 is a word (a gate of Beijing's palace)
    assert towns["板店乡"] == "name"         # two-character stems: a third of them sound like another township
    assert {"板店镇", "板店街道"} <= names()   # a 乡 becomes a 镇, a 镇 a 街道: the stem under every kind
    assert "塔尔气镇" in names() and "鄂尔多斯市" not in names()
    assert sum(c == "typo" for c in towns.values()) > 7000 and len(towns) > 80_000
    # county-level divisions created since cpca's table (2020): places, not slips of 新都区
    assert TERMS["信都区"] == TERMS["襄都区"] == "typo"


def test_a_name_covers_what_lies_inside_it_only():
    from checks.words import WordMatcher

    m = WordMatcher(None, names=frozenset({"盘石镇", "东华门街道"}))
    text = "到盘石镇开展调研，东华门街道办事处"
    assert m.named(text, 1, 3) and m.named(text, 1, 4) and m.named(text, 2, 4)
    assert not m.named(text, 0, 2) and not m.named(text, 3, 5)
    assert m.named(text, 9, 12) and not m.named(text, 12, 16)
    assert not WordMatcher(None).named(text, 1, 3)
