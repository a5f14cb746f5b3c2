"""Completion hooks registered with escrow: a finished operation moves its milestone.

(Filled in by the milestone services; see projects/services/milestones.py.)
"""
