"""``{% rule "R12" %}``: a rule id as a small explained reference (an ``abbr`` whose title says what the rule is),
never a bare code in a label."""
from django import template
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

register = template.Library()

RULES = {
    "R1": _("只有本区认定的科创平台可以合作"),
    "R2": _("合作经费不低于政策最低额"),
    "R4": _("知识产权与盈利分成须约定"),
    "R5": _("开工前缴纳保证金，不低于阶段经费的规定比例"),
    "R6": _("立项预算不低于首笔合作经费"),
    "R7": _("里程碑历时上限"),
    "R8": _("罚没的保证金拨付平台"),
    "R9": _("科创保险与保费补助"),
    "R10": _("政策性融资担保贷款的登记与贴息"),
    "R11": _("研发投入资助"),
    "R12": _("受理须备齐材料"),
    "R13": _("专家评审后立项"),
    "R14": _("立项后开通保证金通道"),
    "R15": _("年度评价与专项审计"),
    "R16": _("专家回避与验收评分"),
    "R17": _("失信企业列入黑名单"),
    "R18": _("典型案例公开"),
    "R19": _("按生效的政策版本办理"),
    "R20": _("同类政策从优、不重复"),
    "I2": _("风险池垫付与归还"),
    "I3": _("剩余资金退还企业"),
    "I4": _("金额精确到分"),
    "I5": _("研发投入按审计确认的年度计"),
    "I7": _("逾期里程碑由科技局延期或认定"),
    "I9": _("各里程碑经费之和等于合作经费"),
    "I10": _("事后理赔重算资助与追回"),
    "I11": _("保单文件在案才补助保费"),
    "I12": _("同类补助按每笔保费从优"),
    "I13": _("评分只属于本轮申报"),
    "I14": _("择优排队按专家均分排名立项"),
    "I15": _("逾期与违约的处理"),
    "I16": _("申报日须有生效的政策版本"),
    "I17": _("专家组须有技术专家"),
    "I18": _("资助待年度评价完成后核定"),
}


@register.simple_tag
def rule(*ids):
    """One or more rule ids, each with its explanation as the tooltip."""
    parts = [format_html('<abbr class="rule-ref" title="{}：{} {}">{}</abbr>', _("政策依据"), i, RULES.get(i, ""), i)
             for i in ids]
    return format_html('<small class="rule-refs">{}</small>', format_html("".join(["{}"] * len(parts)), *parts))
