"""Fixed business vocabulary of the seeded company: an IT supplies and services SME in Madrid."""

from __future__ import annotations

# (name, description, price range in EUR, IVA %, weight kg, tag)
PRODUCTS: list[tuple[str, str, tuple[float, float], int, float, str]] = [
    ("Portátil Lenovo ThinkPad E14", "Intel Core i5, 16 GB RAM, SSD 512 GB", (689, 949), 21, 1.6, "portatiles"),
    ("Portátil HP ProBook 450", "Intel Core i7, 16 GB RAM, SSD 1 TB", (799, 1099), 21, 1.8, "portatiles"),
    ("Portátil Dell Latitude 5440", "Intel Core i5, 8 GB RAM, SSD 256 GB", (649, 899), 21, 1.5, "portatiles"),
    ("Libro 'Ciberseguridad para pymes'", "Manual técnico, edición 2024", (24.9, 34.9), 4, 0.6, "formacion"),
    ('Monitor Dell 27" P2723D', "Monitor QHD 27 pulgadas, USB-C", (229, 329), 21, 5.9, "monitores"),
    ('Monitor LG 24" 24MP400', "Monitor Full HD IPS 24 pulgadas", (99, 149), 21, 3.2, "monitores"),
    ("Impresora HP LaserJet Pro M404dn", "Láser monocromo, dúplex, red", (249, 329), 21, 8.6, "impresion"),
    ("Multifunción Brother MFC-L3750CDW", "Láser color, wifi, fax", (379, 459), 21, 23.0, "impresion"),
    ("Tóner HP 59A", "Cartucho de tóner negro original", (89, 129), 21, 0.9, "consumibles"),
    ("Tóner Brother TN-243", "Pack 4 colores", (139, 179), 21, 1.2, "consumibles"),
    ("Papel A4 80 g", "Caja de 5 paquetes de 500 hojas", (19.9, 27.5), 21, 12.5, "consumibles"),
    ("Disco SSD Samsung 870 EVO 1 TB", "SATA 2,5 pulgadas", (79, 109), 21, 0.1, "componentes"),
    ("Memoria RAM Kingston 16 GB DDR4", "SODIMM 3200 MHz", (39, 59), 21, 0.05, "componentes"),
    ("Router Teldat M1", "Router empresarial fibra y 4G", (189, 249), 21, 0.8, "redes"),
    ("Switch Ubiquiti UniFi 24 puertos", "Gestionable, PoE", (329, 429), 21, 3.1, "redes"),
    ("Punto de acceso UniFi U6 Lite", "Wifi 6, montaje en techo", (99, 139), 21, 0.3, "redes"),
    ("SAI APC Back-UPS 950 VA", "Sistema de alimentación ininterrumpida", (119, 159), 21, 7.5, "energia"),
    ("Teclado y ratón Logitech MK295", "Inalámbricos, silenciosos", (29.9, 39.9), 21, 0.7, "perifericos"),
    ("Auriculares Jabra Evolve2 40", "USB, certificados Teams", (79, 109), 21, 0.2, "perifericos"),
    ("Webcam Logitech C920", "Full HD 1080p", (59, 89), 21, 0.2, "perifericos"),
    ("Silla ergonómica Ofiprix", "Respaldo de malla, brazos regulables", (149, 249), 21, 16.0, "mobiliario"),
    ("Mesa elevable eléctrica", "Tablero 140x70 cm", (299, 449), 21, 32.0, "mobiliario"),
    ("Licencia Microsoft 365 Empresa Estándar", "Suscripción anual por usuario", (135, 151.2), 21, 0, "licencias"),
    ("Licencia antivirus ESET Protect", "Suscripción anual por equipo", (39, 55), 21, 0, "licencias"),
    ("Cable de red Cat6 (caja 305 m)", "UTP, cobre", (89, 129), 21, 9.0, "redes"),
    ("Tablet Samsung Galaxy Tab A9+", "11 pulgadas, 64 GB", (199, 259), 21, 0.5, "movilidad"),
    ("Smartphone Samsung Galaxy A35", "128 GB, 5G", (299, 379), 21, 0.2, "movilidad"),
    ("NAS Synology DS224+", "2 bahías, sin discos", (329, 399), 21, 1.3, "almacenamiento"),
    ("Disco duro WD Red 4 TB", "Para NAS, 5400 rpm", (99, 129), 21, 0.7, "almacenamiento"),
    ("Cafetera de cápsulas para oficina", "Incluye 100 cápsulas", (89, 129), 21, 4.0, "oficina"),
]
VARIANT_SUFFIXES = ["", " (reacondicionado)", " - pack 5 uds", " - pack 10 uds", " - edición 2024"]

# (name, description, price per unit, IVA %, tag): sold by hours or units
SERVICES: list[tuple[str, str, tuple[float, float], int, str]] = [
    ("Hora de soporte técnico", "Soporte remoto o presencial", (35, 55), 21, "soporte"),
    ("Instalación de red local", "Cableado, configuración y pruebas", (420, 980), 21, "redes"),
    ("Mantenimiento informático mensual", "Hasta 10 equipos", (180, 390), 21, "mantenimiento"),
    ("Consultoría de transformación digital", "Jornada de consultoría", (480, 720), 21, "consultoria"),
    ("Catering para jornada formativa", "Café y almuerzo por asistente", (12, 18), 10, "formacion"),
    ("Formación en ciberseguridad", "Sesión de 4 horas para equipos", (350, 600), 21, "formacion"),
    ("Desarrollo de página web corporativa", "Diseño y maquetación, hasta 8 secciones", (1200, 3200), 21, "web"),
    ("Alojamiento web anual", "Hosting con copias diarias", (89, 240), 21, "web"),
    ("Registro de dominio .es", "Renovación anual", (12, 18), 21, "web"),
    ("Copia de seguridad en la nube", "Cuota mensual, 500 GB", (25, 60), 21, "cloud"),
    ("Migración a Microsoft 365", "Por buzón migrado", (30, 45), 21, "cloud"),
    ("Auditoría de seguridad", "Informe y plan de acción", (900, 2400), 21, "seguridad"),
    ("Configuración de equipos nuevos", "Por equipo, incluye software base", (45, 75), 21, "soporte"),
    ("Desplazamiento técnico", "Dentro de la provincia", (25, 40), 21, "soporte"),
    ("Soporte de ERP", "Bolsa de 10 horas", (380, 520), 21, "erp"),
    ("Implantación de ERP", "Parametrización y puesta en marcha", (2500, 6500), 21, "erp"),
    ("Diseño de logotipo e identidad", "Tres propuestas y manual básico", (450, 1200), 21, "diseno"),
]
SERVICE_SUFFIXES = ["", " - tarifa urgente", " - contrato anual", " - pymes"]

# Purchases: (line name, description, price range, IVA %, expense account name, comes with IRPF when
# the supplier is a freelancer)
EXPENSES: list[tuple[str, str, tuple[float, float], int, str, bool]] = [
    ("Alquiler de oficina", "Mensualidad local C/ Alcalá", (1400, 1900), 21, "Arrendamientos", False),
    ("Suministro eléctrico", "Factura bimestral", (180, 420), 21, "Suministros", False),
    ("Servicios de asesoría fiscal y laboral", "Cuota mensual", (180, 350), 21, "Asesoría", True),
    ("Telefonía e internet", "Fibra 1 Gb + 6 líneas móviles", (120, 260), 21, "Telefonía e internet", False),
    ("Seguro de responsabilidad civil", "Prima anual", (380, 900), 0, "Seguros", False),
    ("Material de oficina", "Papelería y consumibles", (40, 260), 21, "Material de oficina", False),
    ("Transporte de mercancías", "Envíos nacionales", (60, 480), 21, "Transportes", False),
    ("Campaña de publicidad online", "Gestión de anuncios", (300, 1500), 21, "Publicidad", True),
    ("Reparación de furgoneta", "Taller mecánico", (150, 900), 21, "Reparaciones", False),
    ("Servicios de diseño gráfico", "Trabajo freelance", (250, 1200), 21, "Publicidad", True),
    ("Desarrollo a medida (subcontratado)", "Horas de programador externo", (600, 3600), 21, "Asesoría", True),
]

EXPENSE_ACCOUNTS = [
    ("Compras de mercaderías", "Material para reventa", 60000001),
    ("Arrendamientos", "Alquiler de la oficina y almacén", 62100001),
    ("Reparaciones", "Reparación y conservación", 62200001),
    ("Asesoría", "Servicios de profesionales independientes", 62300001),
    ("Transportes", "Mensajería y transportistas", 62400001),
    ("Seguros", "Primas de seguros", 62500001),
    ("Servicios bancarios", "Comisiones bancarias", 62600001),
    ("Publicidad", "Publicidad y relaciones públicas", 62700001),
    ("Suministros", "Luz, agua y gas", 62800001),
    ("Telefonía e internet", "Líneas móviles y fibra", 62900001),
    ("Material de oficina", "Papelería y consumibles", 62900002),
]
SALES_CHANNELS = [
    ("Venta de productos", "Venta de hardware y consumibles", 70000001, "#4F46E5"),
    ("Prestación de servicios", "Soporte, instalación y consultoría", 70500001, "#059669"),
    ("Tienda online", "Pedidos de la web", 70000002, "#D97706"),
    ("Contratos de mantenimiento", "Cuotas recurrentes", 70500002, "#DC2626"),
]
PAYMENT_METHODS = [
    ("Transferencia bancaria", "30"),
    ("Recibo domiciliado SEPA", "30"),
    ("Tarjeta de crédito", "0"),
    ("Efectivo", "0"),
    ("Confirming", "90"),
    ("Bizum", "0"),
]
CONTACT_GROUPS = [
    ("Clientes VIP", "Facturación anual superior a 20.000 €", "#EF4444"),
    ("Distribuidores", "Revenden nuestros productos", "#3B82F6"),
    ("Administración pública", "Ayuntamientos y organismos", "#10B981"),
    ("Hostelería", "Bares, restaurantes y hoteles", "#F59E0B"),
    ("Proveedores habituales", "Compras recurrentes", "#8B5CF6"),
    ("Particulares", "Clientes finales", "#6B7280"),
]
CONTACT_TAGS = ["vip", "mayorista", "nuevo", "recurrente", "b2b", "exportacion", "moroso", "feria-2024", "web"]
CUSTOM_FIELD_VALUES = {
    "Sector": ["Hostelería", "Construcción", "Sanidad", "Educación", "Comercio", "Industria", "Servicios"],
    "Origen": ["Web", "Feria", "Recomendación", "Llamada en frío", "LinkedIn"],
    "Comercial": ["Laura", "Javier", "Marta", "Sergio"],
}

FUNNELS: list[tuple[str, list[str]]] = [
    ("Ventas B2B", ["Nuevo", "Contactado", "Necesidades detectadas", "Propuesta enviada", "Negociación", "Cierre"]),
    ("Renovaciones", ["Pendiente", "Contactado", "Oferta enviada", "Cierre"]),
    ("Licitaciones públicas", ["Detectada", "Documentación", "Presentada", "Adjudicación", "Firma"]),
]
LEAD_NAMES = [
    "Renovación de equipos", "Contrato de mantenimiento", "Migración a la nube", "Nueva red wifi",
    "Implantación de ERP", "Web corporativa", "Auditoría de seguridad", "Puestos de teletrabajo",
    "Licencias Microsoft 365", "Formación del personal", "Copia de seguridad gestionada", "Centralita VoIP",
]  # fmt: skip
EVENT_KINDS = [
    ("llamada", "Llamada de seguimiento"), ("reunión", "Reunión comercial"), ("visita", "Visita a cliente"),
    ("videollamada", "Videollamada de presentación"), ("email", "Envío de propuesta"), ("demo", "Demo de producto"),
]  # fmt: skip
EVENT_PLACES = ["Oficina del cliente", "Nuestra oficina", "Google Meet", "Microsoft Teams", "Teléfono", ""]
NOTE_TITLES = ["Llamada", "Reunión", "Comentario", "Seguimiento", "Objeciones"]
NOTE_TEXTS = [
    "Interesado, pide presupuesto detallado.", "Volver a llamar la semana que viene.",
    "Compara con otro proveedor, el precio es clave.", "Decide el gerente, reunión pendiente.",
    "Necesitan la instalación antes de fin de mes.", "Piden referencias de otros clientes.",
]  # fmt: skip
TASK_NAMES = ["Enviar presupuesto", "Llamar al cliente", "Preparar demo", "Revisar contrato", "Visitar instalación"]

PROJECT_KINDS = [
    "Implantación de ERP", "Renovación del parque informático", "Web corporativa", "Migración a Microsoft 365",
    "Cableado estructurado", "Auditoría de seguridad", "Puesta en marcha de oficina", "Plan de copias de seguridad",
]  # fmt: skip
PROJECT_LISTS = [("pending", "Pendiente"), ("inprogress", "En curso"), ("review", "Revisión"), ("done", "Hecho")]
PROJECT_LABELS = [("Nuevo", "#10cf91"), ("Urgente", "#ee585d"), ("Bloqueado", "#f8d053"), ("Facturable", "#4181f2")]
PROJECT_TASKS = [
    "Reunión de arranque", "Toma de requisitos", "Inventario de equipos", "Pedido de material", "Instalación",
    "Configuración", "Pruebas", "Formación a usuarios", "Documentación", "Entrega y cierre", "Migración de datos",
    "Revisión con el cliente",
]  # fmt: skip
COMMENTS = ["Hecho, pendiente de validar.", "El cliente pide moverlo a la semana próxima.", "Material recibido."]

EMPLOYEE_TITLES = [
    "Técnico de sistemas", "Técnica de soporte", "Comercial", "Responsable de cuentas", "Administración",
    "Desarrollador web", "Jefe de proyectos", "Consultora ERP", "Director general", "Técnico de redes",
]  # fmt: skip
TEAMS = [("5f0a1c2b3d4e5f6071829301", "Soporte"), ("5f0a1c2b3d4e5f6071829302", "Comercial"),
         ("5f0a1c2b3d4e5f6071829303", "Proyectos"), ("5f0a1c2b3d4e5f6071829304", "Administración")]  # fmt: skip

# PGC (Plan General Contable) accounts, 8 digits as Holded shows them.
PGC_ACCOUNTS: list[tuple[int, str]] = [
    (10000000, "Capital social"), (11200000, "Reserva legal"), (12900000, "Resultado del ejercicio"),
    (17000000, "Deudas a largo plazo con entidades de crédito"), (21600000, "Mobiliario"),
    (21700000, "Equipos para procesos de información"), (21800000, "Elementos de transporte"),
    (28100000, "Amortización acumulada del inmovilizado material"), (30000000, "Mercaderías"),
    (40000000, "Proveedores"), (41000000, "Acreedores por prestaciones de servicios"), (43000000, "Clientes"),
    (46500000, "Remuneraciones pendientes de pago"), (47000000, "Hacienda Pública, deudora por diversos conceptos"),
    (47200000, "Hacienda Pública, IVA soportado"), (47300000, "Hacienda Pública, retenciones y pagos a cuenta"),
    (47510000, "Hacienda Pública, acreedora por retenciones practicadas"),
    (47600000, "Organismos de la Seguridad Social, acreedores"), (47700000, "Hacienda Pública, IVA repercutido"),
    (52000000, "Deudas a corto plazo con entidades de crédito"), (57000000, "Caja, euros"),
    (60000000, "Compras de mercaderías"), (62100000, "Arrendamientos y cánones"),
    (62200000, "Reparaciones y conservación"), (62300000, "Servicios de profesionales independientes"),
    (62400000, "Transportes"), (62500000, "Primas de seguros"), (62600000, "Servicios bancarios y similares"),
    (62700000, "Publicidad, propaganda y relaciones públicas"), (62800000, "Suministros"),
    (62900000, "Otros servicios"), (64000000, "Sueldos y salarios"),
    (64200000, "Seguridad Social a cargo de la empresa"), (66200000, "Intereses de deudas"),
    (68100000, "Amortización del inmovilizado material"), (70000000, "Ventas de mercaderías"),
    (70500000, "Prestaciones de servicios"), (70800000, "Devoluciones de ventas y operaciones similares"),
    (76900000, "Otros ingresos financieros"),
]  # fmt: skip
PGC_GROUPS = {
    "1": "Financiación básica", "2": "Activo no corriente", "3": "Existencias",
    "4": "Acreedores y deudores por operaciones comerciales", "5": "Cuentas financieras",
    "6": "Compras y gastos", "7": "Ventas e ingresos",
}  # fmt: skip
