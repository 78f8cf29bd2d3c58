"""Complaints and jobs: screen pop (calls), recommending and assigning the nearest patrol
(dispatching), the outbox to tablets (delivery), the acknowledgement timer that alarms and
re-dispatches a job nobody accepts (ack_timer), the patrols' safety (safety: the alarm
button, check-ins while on site; checkins: their intervals per landlord and category;
supervisor: the night's alarms standing and handled; escalation: an alarm nobody handles
goes by SMS to the car's phone, then the duty supervisor; issue 19), job shapes (shapes; board:
the consoles'), patrols, figures. Plain functions that flush; imports core, models and
register, never a feature package."""
