"""Word lists for names, places, brands and promotions (ASCII so emails stay clean)."""


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


CITIES = (
    ("Berlin", "DE", 10),
    ("Hamburg", "DE", 6),
    ("Munich", "DE", 5),
    ("Cologne", "DE", 4),
    ("Frankfurt", "DE", 3),
    ("Paris", "FR", 10),
    ("Lyon", "FR", 4),
    ("Marseille", "FR", 4),
    ("Toulouse", "FR", 3),
    ("Madrid", "ES", 8),
    ("Barcelona", "ES", 7),
    ("Valencia", "ES", 3),
    ("Seville", "ES", 3),
    ("Rome", "IT", 7),
    ("Milan", "IT", 6),
    ("Naples", "IT", 4),
    ("Turin", "IT", 3),
    ("Amsterdam", "NL", 5),
    ("Rotterdam", "NL", 3),
    ("Utrecht", "NL", 2),
    ("Brussels", "BE", 4),
    ("Antwerp", "BE", 2),
    ("Vienna", "AT", 5),
    ("Zurich", "CH", 3),
    ("Geneva", "CH", 2),
    ("Copenhagen", "DK", 3),
    ("Stockholm", "SE", 4),
    ("Oslo", "NO", 3),
    ("Helsinki", "FI", 3),
    ("Dublin", "IE", 3),
    ("Lisbon", "PT", 3),
    ("Porto", "PT", 2),
    ("Warsaw", "PL", 5),
    ("Krakow", "PL", 3),
    ("Prague", "CZ", 4),
)

FIRST_NAMES = _words(
    "Anna Lukas Emma Noah Mia Leon Sofia Paul Lea Jonas Marie Elias Clara Felix Laura "
    "Hugo Chloe Louis Camille Jules Lucia Mateo Carmen Pablo Elena Diego Giulia Marco "
    "Chiara Luca Francesca Matteo Sanne Daan Fleur Bram Julie Arthur Ines Tomas Ella "
    "Oskar Freja Magnus Ingrid Erik Aino Eero Siobhan Conor Beatriz Joao Zofia Jakub "
    "Tereza Petr Nora Max Lena Theo"
)

LAST_NAMES = _words(
    "Mueller Schmidt Schneider Fischer Weber Meyer Wagner Becker Martin Bernard "
    "Dubois Thomas Robert Richard Petit Durand Garcia Fernandez Lopez Martinez "
    "Sanchez Perez Gomez Ruiz Rossi Russo Ferrari Esposito Bianchi Romano Colombo "
    "Ricci DeJong Jansen DeVries VanDijk Bakker Visser Peeters Maes Gruber Huber "
    "Hansen Nielsen Jensen Andersson Johansson Larsen Virtanen Korhonen Murphy Kelly "
    "Silva Santos Nowak Kowalski Novak Svoboda Keller Brunner"
)

BRANDS = {
    "electronics": ("Voltix", "Nexora", "Pixelon", "Sonara", "Quantra", "Lumetek"),
    "books": ("Inkwell Press", "Northpage", "Quill & Co", "Paperlane", "Atlas Books"),
    "home": ("Hearthly", "Casa Nova", "Nordhem", "Linnea", "Ovenly", "Dwellwise"),
    "garden": ("Greenfold", "Rootwise", "Bloomera", "Terrafarm", "Sprigly"),
    "toys": ("Playnest", "Tinker Tots", "Brickly", "Funwise", "Jollybox"),
    "sports": ("Stridex", "Peakform", "Aerofit", "Trailhawk", "Kinetica"),
    "beauty": ("Lumiere", "Velvette", "Purelle", "Glowra", "Botanie"),
    "fashion": ("Urbanthread", "Maison Vela", "Nordstil", "Cottonfield", "Altura"),
    "grocery": ("Fresco", "Harvest Table", "Oliveta", "Daily Pantry", "Mondo Gusto"),
    "pets": ("Pawsome", "Furhaven", "Tailwise", "Whiskerly", "Barkley"),
    "office": ("Deskline", "Scribo", "Papyra", "Officio", "Notably"),
    "music": ("Tonehaus", "Vinylux", "Chordia", "Resona", "Melodica"),
}

ADJECTIVES = _words(
    "Classic Compact Premium Eco Smart Deluxe Essential Ultra Portable Modern Vintage "
    "Pro Lite Organic Signature Everyday"
)

NOUNS = {
    "electronics": ("Headphones", "Speaker", "Smartwatch", "Tablet", "Charger", "Camera"),
    "books": ("Cookbook", "Novel", "Travel Guide", "Biography", "Atlas", "Poetry Collection"),
    "home": ("Lamp", "Throw Blanket", "Cookware Set", "Vase", "Cushion", "Coffee Maker"),
    "garden": ("Planter", "Hose", "Pruning Shears", "Seed Kit", "Garden Chair", "Watering Can"),
    "toys": ("Puzzle", "Building Set", "Plush Bear", "Board Game", "Race Car", "Doll House"),
    "sports": ("Yoga Mat", "Running Shoes", "Dumbbells", "Water Bottle", "Tennis Racket"),
    "beauty": ("Face Cream", "Shampoo", "Lipstick", "Perfume", "Serum", "Body Lotion"),
    "fashion": ("Jacket", "Sneakers", "Scarf", "Jeans", "T-Shirt", "Handbag", "Dress"),
    "grocery": ("Olive Oil", "Coffee Beans", "Pasta", "Granola", "Tea Selection", "Chocolate"),
    "pets": ("Dog Food", "Cat Litter", "Pet Bed", "Chew Toy", "Leash", "Bird Seed"),
    "office": ("Notebook", "Pen Set", "Desk Organizer", "Stapler", "Planner", "Binder"),
    "music": ("Vinyl Record", "Guitar Strings", "Ukulele", "Keyboard", "Songbook", "Metronome"),
}

PROMO_THEMES = {
    1: "New Year",
    2: "Winter",
    3: "Spring",
    4: "Easter",
    5: "May",
    6: "Summer",
    7: "Midsummer",
    8: "Back to School",
    9: "Autumn",
    10: "Harvest",
    11: "November",
    12: "Holiday",
}
PROMO_SUFFIXES = ("Days", "Deals", "Week", "Specials", "Sale")
BLACK_FRIDAY_CATEGORIES = ("electronics", "fashion", "toys", "home", "beauty", "sports")
