"""``{% rule "R12" %}``: a rule id as a small explained reference (an ``abbr`` whose title says what the rule is),
never a bare code in a label."""
from django import template
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

register = template.Library()

RULES = {
    "R2": _("合作经费不低于政策最低额"),
    "R4": _("知识产权与盈利分成须约定"),
    "R5": _("保证金不低于阶段经费的规定比例（首笔依 R5，其后各笔依 R7）"),
    "R6": _("立项预算不低于首笔合作经费"),
    "R7": _("里程碑历时上限"),
    "R8": _("罚没的保证金拨付平台"),
    "R9": _("科创保险与保费补助"),
    "R10": _("政策性融资担保贷款的登记与贴息"),
    "R12": _("受理须备齐材料"),
    "R13": _("专家评审后立项"),
    "R14": _("立项后开通保证金通道"),
    "I2": _("风险池垫付与归还"),
    "I3": _("剩余资金退还企业"),
    "I9": _("各里程碑经费之和等于合作经费"),
    "I15": _("逾期与违约的处理"),
}


@register.simple_tag
def rule(*ids):
    """One or more rule ids, each with its explanation as the tooltip."""
    parts = [format_html('<abbr class="rule-ref" title="{}：{} {}">{}</abbr>', _("政策依据"), i, RULES.get(i, ""), i)
             for i in ids]
    return format_html('<small class="rule-refs">{}</small>', format_html("".join(["{}"] * len(parts)), *parts))
