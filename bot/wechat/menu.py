"""The official account's custom menu (报修, 投诉, 访客, 缴费, 我的); each click's key is a button payload.

https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
(at most 3 top-level buttons of 4 Chinese characters, 5 sub-buttons each; click keys ≤ 128 bytes)
"""

from __future__ import annotations

from typing import Any

from bot.wechat.api import PlatformApi
from handlers import payloads


def _click(name: str, flow: str) -> dict[str, str]:
    return {"type": "click", "name": name, "key": payloads.make("m", flow)}


MENU: dict[str, Any] = {"button": [
    _click("报修", "repair"),
    {"name": "服务", "sub_button": [_click("投诉", "complaint"), _click("访客", "visitor"), _click("缴费", "fee")]},
    {"name": "我的", "sub_button": [_click("我的工单", "status"), _click("绑定房屋", "bind"), _click("活动", "events")]},
]}


def push_menu(api: PlatformApi) -> None:
    api.post("/cgi-bin/menu/create", MENU)


def community_qr(api: PlatformApi, community_code: str) -> dict[str, Any]:
    """A permanent QR code whose scene is the community code: scanning it follows and joins that community.

    https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
    """
    body = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": community_code[:64]}}}
    return api.post("/cgi-bin/qrcode/create", body)
