"""Demo data for `make run`: one user per role, a sales team, device series, demo customers.

Idempotent: running it twice creates nothing twice.
"""

from django.core.management import BaseCommand, call_command

from accounts.models import User
from accounts.roles import Role
from accounts.services import roles_sync_groups, team_create, user_create, user_set_role

DEMO_PASSWORD = "opcms-demo-2026"

# Names match the 销售负责人 / 运营负责人 columns of fixtures/customers_sample.xlsx,
# so the demo import resolves owners to these users.
DEMO_USERS = [
    ("admin", "系统管理员", Role.ADMIN),
    ("manager", "张总", Role.MANAGER),
    ("ops", "钱多", Role.OPS),
    ("ops2", "李静", Role.OPS),
    ("saleslead", "孙晓", Role.SALES),
    ("sales1", "王珂", Role.SALES),
    ("sales2", "赵一鸣", Role.SALES),
]


class Command(BaseCommand):
    help = "创建演示用户（每个角色一个）与演示数据，可重复执行。"

    def handle(self, *args, **options):
        roles_sync_groups()
        users = {}
        for username, full_name, role in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = user_create(
                    username=username, password=DEMO_PASSWORD, role=role, full_name=full_name
                )
            elif user.role != role:
                user_set_role(user=user, role=role)
            users[username] = user
        admin = users["admin"]
        if not admin.is_superuser:
            admin.is_superuser = True
            admin.save(update_fields=["is_superuser"])
        team_create(
            name="华东销售组", lead=users["saleslead"], members=[users["sales1"], users["sales2"]]
        )
        call_command("seed_demo_data", verbosity=options["verbosity"])

        self.stdout.write("演示账号（密码相同）：")
        for username, full_name, role in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {DEMO_PASSWORD}  {Role(role).label} {full_name}")
        self.stdout.write("打开 http://127.0.0.1:8000 登录。")
