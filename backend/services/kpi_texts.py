"""What the KPI dashboard, its XLSX export and the weekly digest say, in the one message catalogue."""

from __future__ import annotations

from backend.catalogue import MESSAGES, name, register

DIGEST_KIND = "kpi.weekly_digest"

register({
    "kpi.period_reversed": ("结束日期早于开始日期。", "The end date is before the start date."),
    "kpi.period_too_long": ("统计区间最长一年。", "A period may be at most a year long."),
    "kpi.bad_date": ("日期“{value}”无效，请用 年-月-日 格式。", "“{value}” is not a date; use YYYY-MM-DD."),
    "kpi.title": ("服务计划 KPI", "Service plan KPIs"),
    "kpi.all_communities": ("全部小区", "All communities"),
    "kpi.period": ("统计区间", "Period"),
    "kpi.communities": ("小区", "Communities"),
    "kpi.generated": ("生成时间", "Generated"),
    "kpi.total": ("工单总数", "Tickets"),
    "kpi.cancelled": ("已取消", "Cancelled"),
    "kpi.on_time": ("按时", "On time"),
    "kpi.late": ("超时", "Late"),
    "kpi.pending": ("未到期", "Not yet due"),
    "kpi.share": ("按时率", "On-time share"),
    "kpi.satisfied_share": ("满意率", "Satisfied share"),
    "kpi.target": ("目标", "Target"),
    "kpi.met": ("达标", "Met"),
    "kpi.yes": ("是", "yes"),
    "kpi.no": ("否", "no"),
    "kpi.none": ("—", "—"),
    "kpi.count": ("数量", "Count"),
    "kpi.emergencies": ("紧急", "Emergencies"),
    "kpi.emergency": ("紧急事件（15 分钟响应，24 小时修复）", "Emergencies (respond in 15 min, fix in 24 h)"),
    "kpi.emergency_respond": ("紧急响应 ≤{minutes} 分钟", "Emergency response ≤ {minutes} min"),
    "kpi.emergency_resolve": ("紧急修复 ≤{hours} 小时", "Emergency fix ≤ {hours} h"),
    "kpi.respond_histogram": ("紧急响应用时分布", "Emergency response times"),
    "kpi.resolve_histogram": ("紧急修复用时分布", "Emergency fix times"),
    "kpi.bucket_open": ("未完成", "not yet"),
    "kpi.other_respond": ("其他工单按时响应", "Other tickets responded on time"),
    "kpi.other_resolve": ("其他工单按时解决", "Other tickets resolved on time"),
    "kpi.categories": ("分类按时率（按各自时限）", "On time by category (own deadlines)"),
    "kpi.category": ("分类", "Category"),
    "kpi.respond_minutes": ("响应时限（分钟）", "Respond within (min)"),
    "kpi.resolve_minutes": ("解决时限（分钟）", "Resolve within (min)"),
    "kpi.respond": ("响应", "Response"),
    "kpi.resolve": ("解决", "Resolution"),
    "kpi.now": ("当前超时与升级", "Overdue and escalated now"),
    "kpi.open": ("未完成工单", "Open tickets"),
    "kpi.overdue": ("已超时", "Overdue"),
    "kpi.escalated": ("已升级", "Escalated"),
    "kpi.number": ("工单号", "Ticket"),
    "kpi.community": ("小区", "Community"),
    "kpi.building": ("楼栋", "Building"),
    "kpi.status": ("状态", "Status"),
    "kpi.deadline": ("时限", "Deadline"),
    "kpi.due": ("到期时间", "Due"),
    "kpi.level": ("升级级别", "Escalation level"),
    "kpi.owner": ("负责人", "Owner"),
    "kpi.satisfaction": ("满意度（对照服务计划目标）", "Satisfaction against the plan's targets"),
    "kpi.area": ("领域", "Area"),
    "kpi.rated": ("评价数", "Rated"),
    "kpi.satisfied": ("满意数（4–5 分）", "Satisfied (4–5)"),
    "kpi.area.safety": ("安全感", "Safety"),
    "kpi.area.environment": ("环境与设施", "Environment and facilities"),
    "kpi.area.community": ("社区文化及沟通", "Community life and communication"),
    "kpi.volume": ("工单量", "Volume"),
    "kpi.by_category": ("按分类", "By category"),
    "kpi.by_building": ("按楼栋", "By building"),
    "kpi.by_week": ("按周", "By week"),
    "kpi.week": ("周（周一）", "Week (Monday)"),
    "kpi.staff": ("员工工作量与接单用时", "Staff workload and time to accept"),
    "kpi.name": ("姓名", "Name"),
    "kpi.department": ("部门", "Department"),
    "kpi.handled": ("负责工单", "Owned"),
    "kpi.resolved": ("已解决", "Resolved"),
    "kpi.open_now": ("手头未完成", "Open now"),
    "kpi.avg_accept": ("平均接单用时（分钟）", "Avg. time to accept (min)"),
    "kpi.filter": ("筛选", "Filter"),
    "kpi.from": ("从", "From"),
    "kpi.to": ("到", "To"),
    "kpi.download": ("下载 XLSX", "Download XLSX"),
    "kpi.nothing": ("本期没有数据。", "Nothing in this period."),
    DIGEST_KIND: (
        "📊 {community} 周报（{first} 至 {last}）\n"
        "工单 {total} 张，其中紧急 {emergencies} 张。\n"
        "紧急响应 ≤15 分钟：{e_respond}；紧急修复 ≤24 小时：{e_resolve}\n"
        "其他工单按时响应：{o_respond}；按时解决：{o_resolve}\n"
        "当前未完成 {open} 张，超时 {overdue} 张，已升级 {escalated} 张。\n"
        "满意度：安全感 {sat_safety}（目标 95%）；环境与设施 {sat_environment}（目标 90%）；"
        "社区文化及沟通 {sat_community}（目标 90%）\n"
        "工单最多的分类：{top_zh}\n"
        "详情见控制台：{link}",
        "📊 {community} weekly digest ({first} to {last})\n"
        "{total} tickets, {emergencies} of them emergencies.\n"
        "Emergency response ≤ 15 min: {e_respond}; emergency fix ≤ 24 h: {e_resolve}\n"
        "Other tickets responded on time: {o_respond}; resolved on time: {o_resolve}\n"
        "Open now {open}, overdue {overdue}, escalated {escalated}.\n"
        "Satisfaction: safety {sat_safety} (target 95%); environment and facilities {sat_environment} "
        "(target 90%); community life {sat_community} (target 90%)\n"
        "Busiest categories: {top_en}\n"
        "Details in the console: {link}",
    ),
})


def percent(share: float | None) -> str:
    """0.9512 -> '95.1%'; no data -> '—'."""
    return "—" if share is None else f"{share * 100:.1f}%"


def department_name(department: str, lang: str = "zh") -> str:
    """The department's name from the catalogue; an unknown code as it is (never an error on a report)."""
    key = f"dept.{department}"
    return name(key, lang) if key in MESSAGES else department
