"""Complaints and jobs: screen pop (calls), recommending and assigning the nearest patrol
(dispatching), the outbox to tablets (delivery), job shapes, patrols, figures. Plain
functions that flush; imports core, models and register, never a feature package."""
