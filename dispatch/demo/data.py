"""Demo material: real Stockholm-area street names with approximate end points, and names.

Each street is (name, postnummer, ort, (lat, lon) at number 1, (lat, lon) at the highest
number, highest number). Coordinates are approximate, good enough for "which car is nearest".
Phone numbers come only from the series the Swedish regulator (PTS) reserves for fiction, so
a demo never rings a real person.
"""

STREETS = [
    # Södermalm
    ("Götgatan", "11646", "Stockholm", (59.3195, 18.0720), (59.3050, 18.0775), 120),
    ("Hornsgatan", "11821", "Stockholm", (59.3203, 18.0680), (59.3160, 18.0320), 180),
    ("Ringvägen", "11867", "Stockholm", (59.3070, 18.0850), (59.3120, 18.0400), 150),
    ("Folkungagatan", "11622", "Stockholm", (59.3145, 18.0650), (59.3145, 18.0950), 140),
    ("Åsögatan", "11624", "Stockholm", (59.3118, 18.0640), (59.3120, 18.0960), 190),
    ("Skånegatan", "11637", "Stockholm", (59.3110, 18.0700), (59.3115, 18.0900), 100),
    ("Bondegatan", "11633", "Stockholm", (59.3102, 18.0720), (59.3108, 18.0920), 80),
    ("Katarina Bangata", "11639", "Stockholm", (59.3138, 18.0760), (59.3080, 18.0850), 80),
    ("Tjärhovsgatan", "11621", "Stockholm", (59.3160, 18.0800), (59.3150, 18.0900), 50),
    ("Renstiernas gata", "11628", "Stockholm", (59.3175, 18.0870), (59.3075, 18.0905), 50),
    ("Södermannagatan", "11640", "Stockholm", (59.3140, 18.0780), (59.3085, 18.0795), 60),
    ("Bellmansgatan", "11847", "Stockholm", (59.3200, 18.0660), (59.3160, 18.0630), 40),
    ("Krukmakargatan", "11726", "Stockholm", (59.3170, 18.0550), (59.3165, 18.0400), 40),
    ("Lundagatan", "11727", "Stockholm", (59.3185, 18.0560), (59.3150, 18.0500), 50),
    ("Timmermansgatan", "11855", "Stockholm", (59.3180, 18.0620), (59.3140, 18.0610), 40),
    ("Brännkyrkagatan", "11726", "Stockholm", (59.3200, 18.0640), (59.3180, 18.0400), 130),
    ("Långholmsgatan", "11733", "Stockholm", (59.3200, 18.0330), (59.3120, 18.0350), 40),
    # Vasastan, Norrmalm
    ("Sveavägen", "11350", "Stockholm", (59.3350, 18.0630), (59.3480, 18.0510), 170),
    ("Odengatan", "11322", "Stockholm", (59.3440, 18.0330), (59.3440, 18.0650), 110),
    ("Drottninggatan", "11151", "Stockholm", (59.3300, 18.0670), (59.3420, 18.0560), 120),
    ("Upplandsgatan", "11360", "Stockholm", (59.3380, 18.0510), (59.3480, 18.0460), 90),
    ("Dalagatan", "11324", "Stockholm", (59.3400, 18.0400), (59.3500, 18.0420), 70),
    ("Västmannagatan", "11325", "Stockholm", (59.3380, 18.0520), (59.3490, 18.0440), 90),
    ("Rörstrandsgatan", "11340", "Stockholm", (59.3395, 18.0280), (59.3450, 18.0300), 50),
    ("Sankt Eriksgatan", "11343", "Stockholm", (59.3300, 18.0320), (59.3480, 18.0360), 120),
    ("Norrtullsgatan", "11327", "Stockholm", (59.3430, 18.0520), (59.3500, 18.0480), 60),
    ("Torsgatan", "11321", "Stockholm", (59.3360, 18.0470), (59.3470, 18.0300), 80),
    ("Karlbergsvägen", "11335", "Stockholm", (59.3450, 18.0570), (59.3420, 18.0300), 90),
    # Kungsholmen
    ("Fleminggatan", "11226", "Stockholm", (59.3320, 18.0500), (59.3340, 18.0260), 100),
    ("Hantverkargatan", "11221", "Stockholm", (59.3300, 18.0500), (59.3310, 18.0300), 90),
    ("Kungsholmsgatan", "11227", "Stockholm", (59.3310, 18.0520), (59.3330, 18.0280), 60),
    ("Sankt Göransgatan", "11217", "Stockholm", (59.3330, 18.0350), (59.3340, 18.0200), 160),
    ("Scheelegatan", "11228", "Stockholm", (59.3300, 18.0460), (59.3350, 18.0430), 30),
    # Östermalm
    ("Karlavägen", "11449", "Stockholm", (59.3370, 18.0700), (59.3360, 18.1050), 110),
    ("Valhallavägen", "11422", "Stockholm", (59.3460, 18.0600), (59.3390, 18.1000), 200),
    ("Birger Jarlsgatan", "11434", "Stockholm", (59.3350, 18.0740), (59.3480, 18.0630), 130),
    ("Sibyllegatan", "11442", "Stockholm", (59.3330, 18.0800), (59.3420, 18.0830), 50),
    ("Östermalmsgatan", "11426", "Stockholm", (59.3390, 18.0680), (59.3400, 18.0900), 90),
    ("Grev Turegatan", "11446", "Stockholm", (59.3350, 18.0760), (59.3420, 18.0790), 70),
    # Suburbs
    ("Rinkebysvängen", "16374", "Spånga", (59.3880, 17.9270), (59.3900, 17.9330), 90),
    ("Tensta allé", "16364", "Spånga", (59.3940, 17.9020), (59.3960, 17.9100), 40),
    ("Bredängsvägen", "12732", "Skärholmen", (59.2950, 17.9330), (59.2930, 17.9250), 200),
    ("Farstavägen", "12347", "Farsta", (59.2430, 18.0900), (59.2470, 18.0950), 60),
    ("Hägerstensvägen", "12653", "Hägersten", (59.3000, 17.9950), (59.2950, 18.0100), 190),
    ("Årstavägen", "12052", "Årsta", (59.2990, 18.0400), (59.2970, 18.0550), 80),
    ("Landsvägen", "17265", "Sundbyberg", (59.3610, 17.9700), (59.3650, 17.9600), 90),
    ("Råsundavägen", "16957", "Solna", (59.3620, 18.0000), (59.3680, 17.9970), 150),
    ("Värmdövägen", "13141", "Nacka", (59.3100, 18.1500), (59.3120, 18.1700), 200),
]

# Where the eight demo patrols stand at the start of a shift.
PATROL_POSITIONS = [
    ("Jour 11", "Södermalm", 59.3140, 18.0720),
    ("Jour 12", "Vasastan", 59.3420, 18.0480),
    ("Jour 13", "Kungsholmen", 59.3320, 18.0350),
    ("Jour 14", "Östermalm", 59.3400, 18.0850),
    ("Jour 21", "Järva", 59.3900, 17.9250),
    ("Jour 22", "Skärholmen", 59.2940, 17.9300),
    ("Jour 23", "Farsta", 59.2450, 18.0920),
    ("Jour 24", "Solna-Sundbyberg", 59.3640, 17.9850),
]

FIRST_NAMES = [
    "Anna",
    "Eva",
    "Maria",
    "Karin",
    "Sara",
    "Lena",
    "Emma",
    "Kerstin",
    "Ingrid",
    "Linnea",
    "Elin",
    "Johanna",
    "Sofia",
    "Hanna",
    "Ida",
    "Amira",
    "Fatima",
    "Aino",
    "Leila",
    "Maja",
    "Lars",
    "Anders",
    "Johan",
    "Erik",
    "Per",
    "Karl",
    "Mikael",
    "Peter",
    "Jonas",
    "Oskar",
    "Ahmed",
    "Mohammed",
    "Ali",
    "Matti",
    "Juha",
    "Nils",
    "Olle",
    "Emil",
    "Hugo",
    "Viktor",
]
LAST_NAMES = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Jansson",
    "Hansson",
    "Bengtsson",
    "Lindberg",
    "Lindqvist",
    "Berg",
    "Holm",
    "Lundgren",
    "Virtanen",
    "Korhonen",
    "Hassan",
    "Mohamed",
    "Ali",
    "Yilmaz",
    "Nguyen",
    "Novak",
    "Ekström",
    "Sjöberg",
]


def fictional_phone_numbers() -> list[str]:
    """Every number PTS reserves for use in fiction (about 500), in national format."""
    numbers = [f"070-17 40 6{n:02d}" for n in range(5, 100)]
    numbers += [f"08-46 500 4{n:02d}" for n in range(100)]
    numbers += [f"031-390 6{n:02d}" for n in range(100)]
    numbers += [f"040-628 04 {n:02d}" for n in range(100)]
    numbers += [f"0980-319 2{n:02d}" for n in range(100)]
    return numbers


# Skatteverket's test personnummer: never assigned to a real person.
TEST_PERSONNUMMER = ["199001012385", "201701012393", "199908072391", "200002292399"]
