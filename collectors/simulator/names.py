"""Chinese place names and 95598 ticket templates used by the simulator."""

from __future__ import annotations

# Towns of a North China Plain county; the first one is always the county seat.
TOWNS = [
    "城关镇",
    "贾寨镇",
    "柳林镇",
    "梁水镇",
    "斗虎屯镇",
    "郑家镇",
    "顾官屯镇",
    "闫寺镇",
    "朱老庄镇",
    "沙镇镇",
    "堂邑镇",
    "梁堂镇",
    "张炉集镇",
    "侯营镇",
    "十八里铺镇",
    "于集镇",
    "许营镇",
    "道口铺镇",
    "王奉镇",
    "杨屯乡",
    "古楼镇",
    "李台镇",
    "石门宋乡",
    "韩集乡",
    "洪官屯镇",
    "东古城镇",
    "清水镇",
    "大桥镇",
    "刘集镇",
    "广平乡",
    "凤凰镇",
    "冯官屯镇",
]

SURNAMES = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "赵",
    "黄",
    "周",
    "吴",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "高",
    "林",
    "罗",
    "郑",
    "梁",
    "宋",
    "谢",
    "唐",
    "韩",
    "冯",
    "于",
    "董",
    "萧",
    "程",
    "曹",
    "袁",
    "邓",
    "许",
    "傅",
    "沈",
    "曾",
    "彭",
    "吕",
    "苏",
    "卢",
    "蒋",
    "蔡",
    "贾",
]
VILLAGE_SUFFIX = ["庄", "屯", "集", "寨", "营", "店", "楼", "庙", "口", "洼", "堤", "桥"]
STREETS = ["振兴路", "建设路", "人民路", "光明街", "新华路", "东风路", "花园路", "育才路"]
ROMAN = [
    "I",
    "II",
    "III",
    "IV",
    "V",
    "VI",
    "VII",
    "VIII",
    "IX",
    "X",
    "XI",
    "XII",
    "XIII",
    "XIV",
    "XV",
    "XVI",
    "XVII",
    "XVIII",
    "XIX",
    "XX",
]
CN_NUM = "一二三四五六七八九十"


def town_stem(town: str) -> str:
    """Town name without its 镇/乡 suffix (城关镇 -> 城关)."""
    for suffix in ("街道", "镇", "乡"):
        if town.endswith(suffix) and len(town) > len(suffix) + 1:
            return town[: -len(suffix)]
    return town


# Ticket texts per category; {addr}, {hhmm}, {hours}, {n} are filled in.
TEMPLATES = {
    "outage": [
        "客户来电反映{addr}从{hhmm}左右停电，至今未恢复，请尽快安排抢修。",
        "客户反映{addr}全村停电，无法正常生活，要求尽快送电。",
        "客户称{addr}突然停电，邻居家也没电，请核实处理。",
    ],
    "frequent_outage": [
        "客户反映{addr}近两个月频繁停电，已停了{n}次，严重影响生产生活，要求彻底解决。",
        "客户来电称{addr}经常停电，三天两头没电，对供电质量非常不满。",
    ],
    "repair_timeout": [
        "客户反映{addr}停电已超过{hours}小时，抢修人员迟迟未到，要求尽快处理。",
        "客户称{addr}停电{hours}个多小时了，说好的送电时间已过仍未来电。",
    ],
    "repair_quality": [
        "客户反映{addr}刚修好又停电，抢修质量差，要求彻底处理。",
    ],
    "low_voltage": [
        "客户反映{addr}晚上电压低，空调启动不了，灯泡发暗，要求处理。",
        "客户来电称{addr}电压偏低，电饭锅做不熟饭，冰箱无法启动。",
        "客户反映{addr}用电高峰时电压只有一百七八十伏，家电无法使用。",
    ],
    "voltage_fluctuation": [
        "客户反映{addr}电压忽高忽低，灯光闪烁，担心烧坏电器。",
    ],
    "customer_side_fault": [
        "客户反映家中没电，经查为客户内部线路故障，漏电保护器跳闸。",
        "客户称家里插座冒烟后停电，属客户产权设备故障。",
    ],
    "power_theft": [
        "群众举报{addr}有人私拉乱接、绕越电表用电，请核查。",
    ],
    "billing": [
        "客户对本月电费有异议，认为电量偏高，要求核实电表。",
        "客户咨询阶梯电价及电费缴纳方式，对电费金额有疑问。",
    ],
    "service_attitude": [
        "客户反映营业厅工作人员服务态度差，要求处理。",
        "客户称抢修人员说话生硬，态度不好。",
    ],
    "other": [
        "客户咨询{addr}电力线路迁改事宜。",
        "客户反映{addr}电线杆倾斜，存在安全隐患。",
    ],
}

CATEGORY_ZH = {
    "outage": "停电",
    "frequent_outage": "频繁停电",
    "low_voltage": "低电压",
    "voltage_fluctuation": "电压波动",
    "repair_timeout": "抢修超时",
    "repair_quality": "抢修质量",
    "customer_side_fault": "客户内部故障",
    "power_theft": "窃电",
    "billing": "电费",
    "service_attitude": "服务态度",
    "other": "其他",
}
