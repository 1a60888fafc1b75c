"""Rules that more than one handler needs, each written once, in a module named for what it decides.

A rule reads the model's values and, where it must, the store through the
batch's `Tx` (`rules._tx`: the overlay a handler reads and writes through,
seen by one actor). It returns the `Issue` its decision makes, or describes
a change both handlers make the same way. Handlers call the rules; nothing
below the handlers knows them, and no handler imports another.

- `access`: who may do what where (permissions, membership, support
  relationships), rank over a target, who may know what an account holds.
- `accounts`: a new account, its first classes of service, a free name.
- `addresses`: the one address namespace and its look-alikes (`address.taken`).
- `admins`: administrators and what protects an account's super admin.
- `agents`: what a parent's support agent may never do in a customer.
- `classes_of_service`: every user has an assignable one; the admin panel.
- `credentials`: the password policy a user follows, who manages a user
  (its directory), and the counter a guess at a name counts on.
- `domains`: users live on an active domain of their account.
- `grants`: what a grant may hold (`grant.escalation`) and how grants merge.
- `mailboxes`: the address a mailbox claims, and a user's personal mailbox.
- `phones`: the account's region and extension range.
- `removal`: removing a user, a mailbox, phones and support in the store's order.
- `users`: what a user's profile shows (its display name).
"""
