"""The config fuzzed transcripts and chat sessions run on: every kind of rule, DST-prone jobs."""

CONFIG = """\
timezone: Asia/Shanghai
groups:
  - { id: g1, timezone: America/New_York }
  - { id: g2, timezone: Europe/Berlin }
roles:
  - { member: alice, role: admin }
faq:
  entries:
    - { id: refund, questions: [怎么申请退款], keywords: [退款], answer: "退款说明" }
rules:
  - name: 早报一
    when: { schedule: { at: '01:30', grace: 30m } }
    do: { action: briefing, items: [早报] }
  - name: 早报二
    when: { schedule: { at: '02:30', grace: 2h } }
    do: { action: reply, text: "早报 {{ now }}" }
  - name: 欢迎
    when: { event: join }
    do: { action: welcome, burst_window: 30s }
  - name: 签到
    when: { command: [签到, checkin] }
    do: { action: checkin, points: 10, streak_bonus: { 2: 5 } }
  - name: 积分
    when: { command: [积分] }
    do: { action: my_points }
  - name: 排行榜
    when: { command: [排行榜, rank] }
    do: { action: leaderboard }
  - name: 订单
    when: { regex: '订单(?P<no>\\d{6})' }
    do: { action: reply, text: "订单 {{ match.groups.no }}", mention: true }
  - name: 分享
    when: { keywords: [分享] }
    do: { action: points, amount: 5 }
  - { name: 群发, when: { command: [/broadcast] }, do: { action: admin, command: broadcast } }
  - { name: 确认, when: { command: [/confirm] }, do: { action: admin, command: confirm } }
  - { name: 取消, when: { command: [/cancel] }, do: { action: admin, command: cancel } }
  - { name: 加分, when: { command: [/grant] }, do: { action: admin, command: grant } }
  - { name: 重载, when: { command: [/reload] }, do: { action: admin, command: reload } }
  - name: 答疑
    when: { question: true }
    priority: -10
    do: { action: faq, text: "记下了" }
"""
