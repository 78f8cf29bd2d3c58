"""The portal's words for its codes: object types, fault categories, rooms, statuses, the
refusals of ``service.PortalError``; one place, so that pages and mails say the same."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

OBJECT_TYPE_NAMES = {
    "lägenhet": _l("Flat"),
    "lokal": _l("Premises"),
    "parkering": _l("Parking"),
    "förråd": _l("Storage"),
    "allmänt utrymme": _l("Common space"),
}
FAULT_CATEGORY_NAMES = {
    "water": _l("Water or drain"),
    "electricity": _l("Electricity"),
    "heating": _l("Heating"),
    "appliance": _l("Kitchen or laundry appliance"),
    "door_lock": _l("Door or lock"),
    "ventilation": _l("Ventilation"),
    "other": _l("Something else"),
}
ROOM_NAMES = {
    "kitchen": _l("Kitchen"),
    "bathroom": _l("Bathroom"),
    "living_room": _l("Living room"),
    "bedroom": _l("Bedroom"),
    "hall": _l("Hall"),
    "balcony": _l("Balcony"),
    "other": _l("Other room or outside the flat"),
}
FAULT_STATUS_NAMES = {
    "received": _l("Received"),
    "planned": _l("Planned"),
    "done": _l("Done"),
}
MESSAGE_KIND_NAMES = {
    "message": _l("Message"),
    "service_request": _l("Service request"),
    "rent": _l("To rent monitoring (rent and payments)"),
    "contact_change": _l("Changed contact details"),
    "notice": _l("Notice of termination"),
}
CONTACT_FIELD_NAMES = {
    "email": _l("E-mail"),
    "phone": _l("Mobile phone"),
    "other_phone": _l("Other phone"),
}
ERRORS = {
    "not_found": _l("Not found."),
    "required": _l("Fill in this field."),
    "too_long": _l("This is too long."),
    "invalid_choice": _l("Choose one of the options."),
    "unknown_object": _l("Choose one of your own objects."),
    "bad_email": _l("Not an e-mail address."),
    "bad_phone": _l("Not a phone number."),
    "photo_too_large": _l("A photo is too large."),
    "photo_type": _l("Only photos (JPEG, PNG or WebP) can be attached."),
    "too_many_photos": _l("At most three photos."),
    "not_in_force": _l("The agreement is not in force."),
    "notice_already_given": _l("Notice has already been given on this agreement."),
    "confirm": _l("Confirm that you give notice."),
    "pass_taken": _l("Someone else just booked this pass. Choose another one."),
    "pass_past": _l("This pass has already begun."),
    "pass_too_far": _l("This pass is too far ahead to book yet."),
    "too_many_bookings": _l("You already have as many bookings as allowed. Cancel one first."),
    "invalid_status": _l("Choose one of the statuses."),
    "bad_time": _l("Give a time as HH:MM, the end after the start."),
    "no_file": _l("Choose a file."),
}
