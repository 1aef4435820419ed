"""The demo's policy library: real laws and regulations the campaign relied on."""

import datetime

from taizhang.campaigns.models import Campaign

from .plans import policy_create

# Real, well-known laws and regulations the campaign relied on. Numbers and dates are given only
# where certain; each text is a short neutral summary written for the demo, not the legal text.
DEMO_POLICIES = (
    {"title": "中华人民共和国城乡规划法", "issuer": "全国人民代表大会常务委员会",
     "number": "中华人民共和国主席令第七十四号", "issued_on": datetime.date(2007, 10, 28),
     "tags": "城乡规划,违法建设,拆违",
     "text": "国家关于城乡规划的制定、实施、修改和监督检查的基本法律。在城市、镇规划区内进行建设须取得规划许可；"
             "对未取得许可或未按许可进行的建设，规定了责令停止建设、限期改正、限期拆除和罚款等处理方式，"
             "并明确了规划主管部门和地方人民政府在查处违法建设中的职责。认定和拆除违法建设时引用。"},
    {"title": "中华人民共和国合同法", "issuer": "全国人民代表大会", "number": "中华人民共和国主席令第十五号",
     "issued_on": datetime.date(1999, 3, 15), "tags": "合同,租赁合同,解除合同",
     "text": "调整平等主体之间合同关系的基本法律。对合同的订立、效力、履行、变更和转让、权利义务终止以及违约责任"
             "作出规定，分则专章规定租赁合同，包括租赁期限、双方义务和合同解除的情形。解除土地和房屋租赁合同、"
             "处理租赁纠纷时引用。"},
    {"title": "北京市禁止违法建设若干规定", "issuer": "北京市人民政府", "tags": "违法建设,拆违,北京",
     "text": "北京市人民政府2011年发布的政府规章，针对违法建设的预防、发现和查处。明确区县政府、街道办事处、"
             "乡镇政府以及规划、城管执法等部门的分工，要求对新生违法建设及时制止和拆除，并要求相关部门和单位"
             "在各自职责范围内配合查处。"},
    {"title": "无照经营查处取缔办法", "issuer": "国务院", "number": "国务院令第370号",
     "issued_on": datetime.date(2003, 1, 6), "tags": "无照经营,工商,废品回收",
     "text": "国务院行政法规，规定对未依法取得营业执照从事经营活动的行为予以查处取缔，由工商行政管理部门负责，"
             "其他有关部门在各自职责内配合；明确了查处时可以采取的措施，以及对无照经营者和为其提供经营场所等"
             "条件者的处罚。查处无照经营的废品回收站点时引用。"},
    {"title": "北京市城乡规划条例", "issuer": "北京市人民代表大会常务委员会", "tags": "城乡规划,违法建设,北京",
     "text": "北京市依据城乡规划法制定的地方性法规，对本市城乡规划的制定、实施和监督检查作出具体规定，"
             "包括建设工程规划许可、乡村建设规划许可，以及查处违法建设的程序和责任部门。"},
    {"title": "再生资源回收管理办法", "issuer": "商务部等六部门", "tags": "废品回收,再生资源",
     "text": "商务部会同有关部门2007年发布的部门规章，规范再生资源回收经营活动：从事回收经营须依法办理工商登记"
             "并向商务主管部门备案，对回收站点的设置、经营行为以及治安和环境保护提出要求。整治废品回收时参考。"},
)


def demo_policies_add(campaign: Campaign) -> int:
    """Add the demo policies a campaign does not hold yet; returns how many were added."""
    present = set(campaign.policies.values_list("title", flat=True))
    added = 0
    for item in DEMO_POLICIES:
        if item["title"] not in present:
            policy_create(campaign=campaign, actor=None, **item)
            added += 1
    return added
