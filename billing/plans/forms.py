"""Forms of price plans: the plan version (bands as text) and the live example."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms

from billing.models import PricePlan


def parse_bands(text: str) -> list[dict]:
    """Lines of “上限,单价” (an empty 上限 = no upper bound) to the stored JSON bands."""
    bands = []
    for number, line in enumerate(text.strip().splitlines(), 1):
        line = line.strip().replace("，", ",")
        if not line:
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 2:
            raise forms.ValidationError(f"第 {number} 行应为“上限,单价”，如 100,10")
        up_to, price = parts
        try:
            bands.append(
                {
                    "up_to": int(up_to) if up_to not in ("", "-", "不限") else None,
                    "price": str(Decimal(price)),
                }
            )
        except (ValueError, InvalidOperation):
            raise forms.ValidationError(f"第 {number} 行“{line}”无法识别") from None
    return bands


def format_bands(bands: list[dict]) -> str:
    return "\n".join(f"{b.get('up_to') or ''},{b.get('price')}" for b in bands or [])


class BandsField(forms.CharField):
    widget = forms.Textarea(
        attrs={
            "rows": 3,
            "class": "form-control font-monospace",
            "placeholder": "100,10\n500,8\n,6",
        }
    )

    def to_python(self, value):
        return parse_bands(super().to_python(value) or "")

    def prepare_value(self, value):
        return format_bands(value) if isinstance(value, list) else value


class PlanForm(forms.ModelForm):
    bands_shared = BandsField(label="共用阶梯（每行：上限,单价；最后一行上限留空）", required=False)
    bands_single = BandsField(label="单层阶梯", required=False)
    bands_multi = BandsField(label="多层阶梯", required=False)

    class Meta:
        model = PricePlan
        fields = list(PricePlan.TERMS_FIELDS)
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "contract_start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    HELP = {
        "valid_from": "留空表示不限开始日期（可为已有用量计价）",
        "multi_rule": "统一价：每次多层拍摄同一价格（留空或 0 = 同单层价）；逐层递增：首层价 + (层数−1)×每增一层",
        "per_area": "按面积计价时，单层拍摄按每平方米单价计；多层价留空则多层也按面积",
        "tier_mode": "分段累进：150 次 = 100×第1档 + 50×第2档；整体适用：150 次全部按第2档单价",
        "tier_unit": "阶梯按拍摄次数还是楼层数累计",
        "bands_single": "与多层阶梯一起使用；填写了共用阶梯则忽略",
        "annual_quota": "留空表示不限量；超出部分按超量单价计",
        "contract_start": "合同年度从该月开始计算；留空则用生效日期",
        "minimum_charge": "本月费用（折扣后）不足时补足到该金额",
        "discount_value": "百分比填 10 表示九折；固定金额为每月减免",
    }
    KIND_FIELDS = PricePlan.KIND_TERMS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind_of = {f: k for k, fields in self.KIND_FIELDS.items() for f in fields}
        for name, f in self.fields.items():
            if name in self.HELP:
                f.help_text = self.HELP[name]
            f.kind = kind_of.get(name, "")
            widget = f.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")
            widget.attrs["data-field"] = name

    def plan_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


class PlanExampleForm(forms.Form):
    """The live example under the plan form: N single-floor and M multi-floor shoots."""

    ex_single = forms.IntegerField(label="单层拍摄", min_value=0, initial=10, required=False)
    ex_multi = forms.IntegerField(label="多层拍摄", min_value=0, initial=2, required=False)
    ex_floors = forms.IntegerField(label="每次层数", min_value=2, initial=3, required=False)
