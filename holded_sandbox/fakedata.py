"""Spanish fake-data primitives: names, tax ids (NIF/CIF), IBANs, phones, addresses.

Everything takes a `random.Random` so generated data is a pure function of the seed.
Tax ids and IBANs carry valid check digits, so validators in clients accept them.
"""

from __future__ import annotations

import random
import unicodedata

FIRST_NAMES_M = [
    "Antonio", "José", "Manuel", "Francisco", "David", "Juan", "Javier", "Daniel", "Carlos", "Jesús",
    "Alejandro", "Miguel", "Rafael", "Pablo", "Pedro", "Ángel", "Sergio", "Fernando", "Jorge", "Luis",
    "Alberto", "Álvaro", "Adrián", "Diego", "Raúl", "Iván", "Rubén", "Óscar", "Andrés", "Ramón",
    "Enrique", "Vicente", "Joaquín", "Santiago", "Víctor", "Eduardo", "Mario", "Roberto", "Jaime", "Marcos",
    "Gonzalo", "Ignacio", "Hugo", "Iker", "Jordi", "Xavier", "Unai", "Aitor", "Gorka", "Martí",
]  # fmt: skip
FIRST_NAMES_F = [
    "María", "Carmen", "Ana", "Isabel", "Laura", "Cristina", "Marta", "Lucía", "Elena", "Pilar",
    "Paula", "Sara", "Raquel", "Rosa", "Beatriz", "Patricia", "Silvia", "Nuria", "Irene", "Andrea",
    "Alba", "Mónica", "Sonia", "Rocío", "Teresa", "Eva", "Julia", "Claudia", "Inmaculada", "Montserrat",
    "Alicia", "Natalia", "Lorena", "Noelia", "Susana", "Yolanda", "Marina", "Nerea", "Ainhoa", "Carla",
    "Sofía", "Martina", "Blanca", "Rebeca", "Miriam", "Esther", "Gemma", "Amparo", "Begoña", "Itziar",
]  # fmt: skip
SURNAMES = [
    "García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín",
    "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Alonso", "Gutiérrez",
    "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Gil", "Ramírez", "Serrano", "Blanco", "Molina",
    "Morales", "Suárez", "Ortega", "Delgado", "Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez",
    "Iglesias", "Medina", "Garrido", "Cortés", "Castillo", "Santos", "Lozano", "Guerrero", "Cano", "Prieto",
    "Méndez", "Cruz", "Calvo", "Gallego", "Vidal", "León", "Márquez", "Herrera", "Peña", "Flores",
    "Cabrera", "Campos", "Vega", "Fuentes", "Carrasco", "Díez", "Caballero", "Reyes", "Nieto", "Aguilar",
    "Pascual", "Santana", "Herrero", "Lorenzo", "Montero", "Hidalgo", "Giménez", "Ibáñez", "Ferrer", "Durán",
    "Santiago", "Benítez", "Mora", "Vicente", "Vargas", "Arias", "Carmona", "Crespo", "Román", "Pastor",
    "Soto", "Sáez", "Velasco", "Moya", "Soler", "Parra", "Esteban", "Bravo", "Gallardo", "Rojas",
    "Etxeberria", "Puig", "Ferrán", "Casals", "Otero", "Castaño", "Rey", "Quintana", "Mendoza", "Bermúdez",
]  # fmt: skip

SECTORS = [
    "Construcciones", "Distribuciones", "Transportes", "Talleres", "Reformas", "Asesoría", "Consultoría",
    "Instalaciones", "Suministros", "Climatización", "Electricidad", "Fontanería", "Carpintería", "Panadería",
    "Restaurante", "Hostal", "Clínica Dental", "Farmacia", "Librería", "Inmobiliaria", "Gestoría", "Logística",
    "Ingeniería", "Estudio de Arquitectura", "Autoescuela", "Academia", "Óptica", "Ferretería", "Bodegas",
    "Viajes", "Imprenta", "Frutas", "Muebles", "Servicios Informáticos", "Limpiezas", "Seguros", "Catering",
    "Papelería", "Cerámicas", "Aceites", "Conservas", "Textil", "Gráficas", "Cristalería", "Recambios",
]  # fmt: skip
PLACE_WORDS = [
    "Levante", "Ibérica", "del Norte", "Mediterránea", "Atlántica", "Cantábrica", "del Sur", "Castellana",
    "Costa Brava", "Pirineo", "Sierra Nevada", "Guadalquivir", "del Ebro", "del Tajo", "Peninsular", "Galaica",
    "Andaluza", "Aragonesa", "Balear", "Canaria", "Manchega", "del Duero", "Montseny", "Miramar", "Alborán",
]  # fmt: skip
BRAND_PARTS = [
    "Iber", "Nova", "Tecno", "Euro", "Hispa", "Medi", "Alta", "Sol", "Mar", "Vital", "Prisma", "Delta",
    "Astur", "Gali", "Cata", "Levan", "Norte", "Sur", "Omni", "Max", "Neo", "Orto", "Bio", "Agro",
]  # fmt: skip
BRAND_SUFFIXES = ["net", "tec", "ma", "sur", "logic", "plus", "data", "line", "sys", "med", "gest", "port"]
LEGAL_FORMS = ["S.L.", "S.L.", "S.L.", "S.L.", "S.A.", "S.L.U.", "S.Coop."]

# (province, INE code used as postal prefix, landline prefix, cities, weight)
PROVINCES: list[tuple[str, str, str, list[str], int]] = [
    ("Madrid", "28", "91", ["Madrid", "Alcalá de Henares", "Getafe", "Móstoles", "Leganés", "Alcobendas"], 18),
    ("Barcelona", "08", "93", ["Barcelona", "L'Hospitalet de Llobregat", "Badalona", "Terrassa", "Sabadell"], 15),
    ("Valencia", "46", "96", ["Valencia", "Gandia", "Torrent", "Paterna"], 7),
    ("Sevilla", "41", "95", ["Sevilla", "Dos Hermanas", "Alcalá de Guadaíra"], 5),
    ("Málaga", "29", "95", ["Málaga", "Marbella", "Vélez-Málaga", "Fuengirola"], 4),
    ("Zaragoza", "50", "976", ["Zaragoza", "Calatayud"], 3),
    ("Bizkaia", "48", "94", ["Bilbao", "Barakaldo", "Getxo"], 3),
    ("Illes Balears", "07", "971", ["Palma", "Manacor", "Eivissa"], 3),
    ("Las Palmas", "35", "928", ["Las Palmas de Gran Canaria", "Telde"], 2),
    ("Alicante", "03", "96", ["Alicante", "Elche", "Benidorm", "Torrevieja"], 4),
    ("Murcia", "30", "968", ["Murcia", "Cartagena", "Lorca"], 3),
    ("A Coruña", "15", "981", ["A Coruña", "Santiago de Compostela", "Ferrol"], 2),
    ("Asturias", "33", "985", ["Oviedo", "Gijón", "Avilés"], 2),
    ("Girona", "17", "972", ["Girona", "Figueres", "Blanes"], 2),
    ("Granada", "18", "958", ["Granada", "Motril"], 2),
    ("Valladolid", "47", "983", ["Valladolid", "Medina del Campo"], 2),
    ("Navarra", "31", "948", ["Pamplona", "Tudela"], 2),
    ("Cantabria", "39", "942", ["Santander", "Torrelavega"], 1),
    ("Gipuzkoa", "20", "943", ["Donostia-San Sebastián", "Irun", "Eibar"], 2),
    ("Pontevedra", "36", "986", ["Vigo", "Pontevedra"], 2),
    ("Tarragona", "43", "977", ["Tarragona", "Reus"], 2),
    ("Córdoba", "14", "957", ["Córdoba", "Lucena"], 1),
    ("Cádiz", "11", "956", ["Cádiz", "Jerez de la Frontera", "Algeciras"], 2),
    ("Araba/Álava", "01", "945", ["Vitoria-Gasteiz"], 1),
    ("Salamanca", "37", "923", ["Salamanca"], 1),
    ("Castellón", "12", "964", ["Castellón de la Plana", "Vila-real"], 1),
    ("Santa Cruz de Tenerife", "38", "922", ["Santa Cruz de Tenerife", "San Cristóbal de La Laguna"], 2),
    ("Toledo", "45", "925", ["Toledo", "Talavera de la Reina"], 1),
    ("La Rioja", "26", "941", ["Logroño"], 1),
    ("Badajoz", "06", "924", ["Badajoz", "Mérida"], 1),
]


def table(options: list, weights: list[int]) -> list:
    """Options repeated by weight: `rng.choice(table)` is a fast weighted pick."""
    return [option for option, weight in zip(options, weights, strict=True) for _ in range(weight)]


_PROVINCE_TABLE = table(PROVINCES, [p[4] for p in PROVINCES])
_CATALAN = {"Barcelona", "Girona", "Tarragona"}
STREETS = [
    "Mayor", "Real", "de Alcalá", "Gran Vía", "de la Constitución", "del Carmen", "de San Vicente", "de Colón",
    "de la Paz", "Nueva", "del Sol", "de Cervantes", "de Goya", "de Velázquez", "de Serrano", "del Mar",
    "de la Estación", "de Andalucía", "de Valencia", "del Prado", "de las Huertas", "de Castilla", "del Pilar",
    "de Blasco Ibáñez", "de la Libertad", "de Santa Ana", "de la Iglesia", "del Río", "de los Reyes Católicos",
    "de Pablo Iglesias", "de Jaime I", "de la Industria", "del Comercio", "de Europa", "de América",
]  # fmt: skip
STREET_KINDS = ["Calle", "Calle", "Calle", "Avenida", "Plaza", "Paseo", "Ronda", "Camino"]
CATALAN_STREETS = ["de Balmes", "d'Aragó", "de Mallorca", "de Provença", "del Mar", "Major", "de Sants", "de Gràcia"]

# Spanish banks: (entity code, SWIFT/BIC, short key, display name)
BANKS = [
    ("2100", "CAIXESBBXXX", "caixabank", "CaixaBank"),
    ("0049", "BSCHESMMXXX", "santander", "Banco Santander"),
    ("0182", "BBVAESMMXXX", "bbva", "BBVA"),
    ("0081", "BSABESBBXXX", "sabadell", "Banco Sabadell"),
    ("0128", "BKBKESMMXXX", "bankinter", "Bankinter"),
    ("1465", "INGDESMMXXX", "ing", "ING"),
    ("2085", "CAZRES2ZXXX", "ibercaja", "Ibercaja"),
    ("3058", "CCRIES2AXXX", "cajamar", "Cajamar"),
    ("2080", "CAGLESMMXXX", "abanca", "Abanca"),
    ("0239", "EVOBESMMXXX", "evo", "EVO Banco"),
]
EMAIL_DOMAINS = ["gmail.com", "gmail.com", "hotmail.com", "hotmail.es", "yahoo.es", "outlook.es", "telefonica.net"]
JOBS = [
    "Gerente", "Administración", "Compras", "Contabilidad", "Director comercial", "Responsable de IT",
    "Recepción", "Directora financiera", "Jefe de obra", "Responsable de calidad", "Socio fundador",
]  # fmt: skip

NIF_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def slug(text: str, sep: str = "") -> str:
    """ASCII lower-case slug: 'Núñez & Hijos' -> 'nunezhijos'."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return sep.join("".join(ch for ch in word if ch.isalnum()) for word in plain.lower().split()).strip(sep)


def nif(rng: random.Random) -> str:
    number = rng.randint(10_000_000, 79_999_999)
    return f"{number}{NIF_LETTERS[number % 23]}"


def cif(rng: random.Random, letter: str = "B") -> str:
    """Company tax id with a valid control digit (letters A/B use a numeric control)."""
    digits = f"{rng.choice(PROVINCES)[1]}{rng.randint(0, 99999):05d}"
    even = sum(int(d) for d in digits[1::2])
    odd = sum(sum(divmod(int(d) * 2, 10)) for d in digits[0::2])
    control = (10 - (even + odd) % 10) % 10
    return f"{letter}{digits}{control}"


def _ccc_digit(digits: str) -> int:
    weights = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6]
    value = 11 - sum(int(d) * w for d, w in zip(digits.rjust(10, "0"), weights, strict=True)) % 11
    return {10: 1, 11: 0}.get(value, value)


def iban(rng: random.Random, bank: tuple[str, str, str, str] | None = None) -> tuple[str, str]:
    """A valid Spanish IBAN (national and IBAN check digits) and the bank's BIC."""
    entity, swift, _, _ = bank or rng.choice(BANKS)
    branch = f"{rng.randint(0, 9999):04d}"
    account = f"{rng.randint(0, 9_999_999_999):010d}"
    dc = f"{_ccc_digit(entity + branch)}{_ccc_digit(account)}"
    bban = entity + branch + dc + account
    check = 98 - int(bban + "142800") % 97  # "ES00" as digits: E=14, S=28
    return f"ES{check:02d}{bban}", swift


def mobile(rng: random.Random) -> str:
    return f"+34 6{rng.randint(0, 99):02d} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}"


def landline(rng: random.Random, prefix: str) -> str:
    rest = f"{rng.randint(0, 10 ** (9 - len(prefix)) - 1):0{9 - len(prefix)}d}"
    number = prefix + rest
    return f"+34 {number[:3]} {number[3:6]} {number[6:]}"


def person_name(rng: random.Random) -> tuple[str, str, str]:
    """(first name, two surnames, gender)."""
    gender = rng.choice(("male", "female"))
    first = rng.choice(FIRST_NAMES_M if gender == "male" else FIRST_NAMES_F)
    return first, f"{rng.choice(SURNAMES)} {rng.choice(SURNAMES)}", gender


def company_name(rng: random.Random) -> str:
    form = rng.choice(LEGAL_FORMS)
    roll = rng.random()
    if roll < 0.4:
        return f"{rng.choice(SECTORS)} {rng.choice(SURNAMES)} {form}"
    if roll < 0.65:
        return f"{rng.choice(SECTORS)} {rng.choice(PLACE_WORDS)} {form}"
    if roll < 0.8:
        return f"{rng.choice(SECTORS)} Hermanos {rng.choice(SURNAMES)} {form}"
    if roll < 0.9:
        return f"{rng.choice(SURNAMES)} e Hijos {form}"
    return f"{brand(rng)} {rng.choice(SECTORS)} {form}"


def brand(rng: random.Random) -> str:
    return rng.choice(BRAND_PARTS) + rng.choice(BRAND_SUFFIXES)


def address(rng: random.Random) -> dict[str, str]:
    """A Spanish postal address; postalCode is a string (province prefix + 3 digits)."""
    province, code, _, cities, _ = rng.choice(_PROVINCE_TABLE)
    city = cities[0] if rng.random() < 0.6 else rng.choice(cities)
    if province in _CATALAN and rng.random() < 0.7:
        street = f"Carrer {rng.choice(CATALAN_STREETS)}, {rng.randint(1, 250)}"
    else:
        street = f"{rng.choice(STREET_KINDS)} {rng.choice(STREETS)}, {rng.randint(1, 180)}"
    if rng.random() < 0.45:
        street += f", {rng.randint(1, 8)}º {rng.choice('ABCDI')}"
    return {
        "address": street,
        "city": city,
        "postalCode": f"{code}{rng.randint(1, 199):03d}",
        "province": province,
        "country": "España",
        "countryCode": "ES",
    }


def phone_prefix(province: str) -> str:
    for name, _, prefix, _, _ in PROVINCES:
        if name == province:
            return prefix
    return "91"


def money(value: float) -> float:
    """Round half-up to cents (float rounding is banker's-ish on ties)."""
    return float(f"{value + (1e-9 if value >= 0 else -1e-9):.2f}")
