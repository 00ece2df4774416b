"""The demo tour, its users and a server thread: the lesson's rig, never imported by auth/."""
