"""Automatic assignment of new tickets by category: default assignee, balanced team, leaves."""

from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user

from .common import TerasoftCase

SUPPORT_GROUPS = "base.group_user,terasoft_portal.group_terasoft_portal_user"


class TestAssignment(TerasoftCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.anna = new_test_user(cls.env, login="anna_team", groups=SUPPORT_GROUPS, name="Anna Team")
        cls.bruno = new_test_user(cls.env, login="bruno_team", groups=SUPPORT_GROUPS, name="Bruno Team")
        cls.carla = new_test_user(cls.env, login="carla_team", groups=SUPPORT_GROUPS, name="Carla Team")
        cls.category = cls.env["terasoft.ticket.category"].create(
            {
                "name": "Team test",
                "user_id": cls.carla.id,
                "assignment_method": "balanced",
                "team_user_ids": [(6, 0, [cls.anna.id, cls.bruno.id, cls.carla.id])],
            }
        )
        cls.other_category = cls.env["terasoft.ticket.category"].create(
            {"name": "Other team", "user_id": cls.support.id, "assignment_method": "default"}
        )

    def _new(self, category=None, **vals):
        return self._ticket(self.giulia.partner_id, category_id=(category or self.category).id, **vals)

    def _load(self, user, count, state="waiting_support"):
        """``count`` open tickets (or in ``state``) assigned to ``user`` by hand."""
        return self.Ticket.create(
            [
                {
                    "name": f"Carico {user.name} {i}",
                    "partner_id": self.giulia.partner_id.id,
                    "category_id": self.other_category.id,
                    "user_id": user.id,
                    "state": state,
                }
                for i in range(count)
            ]
        )

    def _leave(self, user, date_from=None, date_to=None):
        resource = user.resource_ids[:1] or self.env["resource.resource"].create(
            {"name": user.name, "user_id": user.id, "calendar_id": False}
        )
        now = fields.Datetime.now()
        return self.env["resource.calendar.leaves"].create(
            {
                "name": "Ferie",
                "resource_id": resource.id,
                "date_from": date_from or now - timedelta(hours=1),
                "date_to": date_to or now + timedelta(hours=2),
            }
        )

    def test_default_method_gives_the_default_assignee(self):
        ticket = self._new(self.other_category)
        self.assertRecordValues(ticket, [{"user_id": self.support.id, "auto_assigned": True}])
        self._leave(self.support)  # the default method does not look at leaves
        self.assertEqual(self._new(self.other_category).user_id, self.support)

    def test_given_assignee_is_kept(self):
        ticket = self._new(user_id=self.bruno.id)
        self.assertRecordValues(ticket, [{"user_id": self.bruno.id, "auto_assigned": False}])

    def test_balanced_goes_to_the_fewest_open_tickets(self):
        self._load(self.anna, 2)
        self._load(self.carla, 1)
        self._load(self.bruno, 5, state="closed")  # closed tickets are no workload
        self._load(self.bruno, 1)
        self._load(self.bruno, 1, state="resolved")  # resolved still counts (OPEN_STATES)
        # anna 2, bruno 2, carla 1
        self.assertEqual(self._new().user_id, self.carla)
        # anna 2, bruno 2, carla 2: tie, the default assignee (carla) first
        self.assertEqual(self._new().user_id, self.carla)
        # anna 2, bruno 2, carla 3: tie between two non-default members: the oldest user
        self.assertEqual(self._new().user_id, self.anna)

    def test_batch_creation_spreads_the_tickets(self):
        tickets = self.Ticket.create(
            [
                {"name": f"Lotto {i}", "partner_id": self.giulia.partner_id.id, "category_id": self.category.id}
                for i in range(6)
            ]
        )
        self.assertEqual(sorted(tickets.mapped("user_id").ids), sorted((self.anna | self.bruno | self.carla).ids))
        for user in self.anna | self.bruno | self.carla:
            self.assertEqual(len(tickets.filtered(lambda t, u=user: t.user_id == u)), 2)

    def test_member_on_leave_today_is_skipped(self):
        self._load(self.anna, 1)
        self._load(self.bruno, 1)
        self._load(self.carla, 3)
        self._leave(self.anna)
        # anna has a time off today: bruno, though anna has as few tickets
        self.assertEqual(self._new().user_id, self.bruno)
        self.assertEqual(self._new().user_id, self.bruno)  # bruno 2, carla 3, anna away

    def test_leave_on_another_day_does_not_count(self):
        now = fields.Datetime.now()
        self._load(self.bruno, 1)
        self._load(self.carla, 1)
        self._leave(self.anna, now + timedelta(days=3), now + timedelta(days=5))
        self._leave(self.anna, now - timedelta(days=5), now - timedelta(days=3))
        self.assertEqual(self._new().user_id, self.anna)

    def test_all_on_leave_goes_to_the_default_assignee_or_nobody(self):
        self._leave(self.anna)
        self._leave(self.bruno)
        self.category.user_id = self.support  # default assignee outside the team, not on leave
        self._leave(self.carla)
        self.assertRecordValues(self._new(), [{"user_id": self.support.id, "auto_assigned": True}])
        self._leave(self.support)
        ticket = self._new()
        self.assertFalse(ticket.user_id, "nobody available: unassigned, in the Unassigned filter")
        self.assertIn(ticket, self.Ticket.search([("user_id", "=", False), ("category_id", "=", self.category.id)]))

    def test_empty_team_uses_the_default_assignee(self):
        self.category.team_user_ids = False
        self.assertEqual(self._new().user_id, self.carla)

    def test_archived_member_is_skipped(self):
        self._load(self.bruno, 1)
        self._load(self.carla, 1)
        self.anna.active = False
        self.assertEqual(self._new().user_id, self.carla)

    def test_category_change_reassigns_an_automatic_assignee(self):
        ticket = self._new(self.other_category)
        self.assertEqual(ticket.user_id, self.support)
        self._load(self.anna, 1)
        self._load(self.carla, 1)
        ticket.category_id = self.category
        self.assertRecordValues(ticket, [{"user_id": self.bruno.id, "auto_assigned": True}])
        # back to the default category: its default assignee
        ticket.category_id = self.other_category
        self.assertEqual(ticket.user_id, self.support)

    def test_category_change_keeps_a_hand_picked_assignee(self):
        ticket = self._new(self.other_category)
        ticket.user_id = self.anna
        self.assertFalse(ticket.auto_assigned)
        ticket.category_id = self.category
        self.assertEqual(ticket.user_id, self.anna)

    def test_category_change_keeps_the_assignee_once_taken_in_charge(self):
        ticket = self._new(self.other_category)
        ticket.with_user(self.support).action_take_in_charge()
        ticket.category_id = self.category
        self.assertEqual(ticket.user_id, self.support)

    def test_category_change_with_an_assignee_in_the_same_write(self):
        ticket = self._new(self.other_category)
        ticket.write({"category_id": self.category.id, "user_id": self.bruno.id})
        self.assertRecordValues(ticket, [{"user_id": self.bruno.id, "auto_assigned": False}])

    def test_reassignment_does_not_count_the_ticket_itself(self):
        """The ticket moving to a team of which its assignee is a member does not weigh on it."""
        self._load(self.anna, 1)
        self._load(self.bruno, 1)
        self.other_category.user_id = self.carla
        ticket = self._new(self.other_category)
        self.assertEqual(ticket.user_id, self.carla)  # carla: 1 open (this one), like the others
        ticket.category_id = self.category
        self.assertEqual(ticket.user_id, self.carla, "tie 1-1-1 (not 1-1-2): the default assignee")

    def test_portal_ticket_is_assigned(self):
        ticket, errors = (
            self.Ticket.with_user(self.giulia)
            .with_context(lang="it_IT")
            ._portal_create_ticket({"name": "Dal portale", "category_id": str(self.category.id)}, [])
        )
        self.assertFalse(errors)
        self.assertTrue(ticket.user_id)
        self.assertIn(ticket.user_id, self.category.team_user_ids)
        self.assertTrue(ticket.auto_assigned)

    def test_support_user_without_rights_on_categories_can_create(self):
        """An agent (no write access on categories or leaves) creates a ticket: assigned."""
        ticket = self.Ticket.with_user(self.anna).create(
            {"name": "Telefonata", "partner_id": self.giulia.partner_id.id, "category_id": self.category.id}
        )
        self.assertTrue(ticket.user_id)

    def test_team_load_is_one_query_whatever_the_team(self):
        """The workload of the team is one grouped query (and the leaves one more), not one
        count per member: the same number of queries for 3 and for 10 members."""
        self._load(self.anna, 2)

        def count_queries():
            self.env.flush_all()
            self.env.invalidate_all()
            category = self.category.with_env(self.env)
            before = self.cr.sql_log_count
            self.Ticket._assignees_for(category)(category)
            return self.cr.sql_log_count - before

        count_queries()  # warm the registry caches (xmlids, rules)
        small = count_queries()
        more = [new_test_user(self.env, login=f"team_{i}", groups=SUPPORT_GROUPS) for i in range(7)]
        self.category.team_user_ids |= self.env["res.users"].concat(*more)
        for user in more[:3]:
            self._load(user, 1)
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(small):
            category = self.category.with_env(self.env)
            self.Ticket._assignees_for(category)(category)
        self.assertLessEqual(small, 8)

    def test_email_ticket_is_assigned_then_reassigned_on_triage(self):
        """An email ticket lands in the triage category (its default assignee); the agent who
        classifies it into a team's category hands it to the team."""
        triage = self.env.company._ticket_email_category()
        triage.user_id = self.support
        self._load(self.anna, 1)
        self._load(self.bruno, 1)
        ticket = self.Ticket.message_new(
            {
                "subject": "Cedolino non stampabile",
                "email_from": self.giulia.partner_id.email,
                "author_id": self.giulia.partner_id.id,
                "body": "<p>Non stampa.</p>",
            }
        )
        self.assertRecordValues(ticket, [{"category_id": triage.id, "user_id": self.support.id, "auto_assigned": True}])
        ticket.with_user(self.support).write({"category_id": self.category.id})
        self.assertRecordValues(ticket, [{"user_id": self.carla.id, "auto_assigned": True}])

    def test_search_view_has_the_unassigned_filters(self):
        arch = self.Ticket.get_views([(False, "search")])["views"]["search"]["arch"]
        self.assertIn('name="unassigned"', arch)
        self.assertIn('name="mine_or_unassigned"', arch)
        unassigned = self._new(self.category.copy({"name": "Senza nessuno", "user_id": False, "team_user_ids": False}))
        mine = self._new(self.other_category)
        domain = ["|", ("user_id", "=", self.support.id), ("user_id", "=", False)]
        found = self.Ticket.search(domain)
        self.assertIn(unassigned, found)
        self.assertIn(mine, found)
