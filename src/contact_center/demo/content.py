"""Spanish wording of the demo data set: names, call scripts, WhatsApp chats, SMS texts.

Everything here is fictional. Names are common Argentine first names and surnames combined at
random; numbers, tickets and amounts are made up by the generator. Templates use `str.format`
placeholders that the generator fills for each interaction:

    {nombre}     customer's first name        {agente}   human agent's first name
    {cola}       queue label ("Tarjetas")     {ticket}   claim number ("RC-483920")
    {ult4}       last four digits of a card   {dni3}     last three digits of the DNI
    {saldo}      a balance in pesos           {monto}    another amount ("$ 48.500,00")
    {prestamo}   a pre-approved loan amount   {cuota}    its instalment in 12 months
    {limite}     a daily transfer limit       {fecha}    a recent date ("14/11")
    {comercio}   a merchant name              {url}      a link under the bank's site
    {vence}      a due date in the next weeks {ayuda}    the bank's help line
    {bienvenido} "Bienvenido" or "Bienvenida"

Conversational style: the voice agent speaks formally ("usted"), WhatsApp and SMS use the
Argentine "vos", as Argentine banks do in their digital channels.
"""

from __future__ import annotations

from dataclasses import dataclass

BANK_NAME = "Banco Demo"
BANK_VOICE_LINE = "+541152500000"
SMS_SENDER_FALLBACK = "+15005550006"
BANK_SITE = "https://www.bancodemo.example"
MEDIA_BASE_URL = "https://media.example.com"
VIRTUAL_AGENT_NAME = "Agente Virtual Banco"
HELP_LINE = "0810-555-3336"

# --- people ------------------------------------------------------------------------------------

FEMALE_FIRST_NAMES = (
    "Lucía", "Sofía", "Valentina", "Camila", "Martina", "Julieta", "Agustina", "Florencia",
    "Micaela", "Milagros", "Rocío", "Carolina", "Paula", "Victoria", "María Laura", "Ana",
    "Gabriela", "Natalia", "Romina", "Silvina", "Mariana", "Lorena", "Daniela", "Belén",
    "Antonella", "Catalina", "Josefina", "Guadalupe", "Marcela", "Graciela", "Susana", "Patricia",
    "Claudia", "Verónica", "Andrea", "Luciana", "Celeste", "Brenda", "Noelia", "Soledad",
)  # fmt: skip

MALE_FIRST_NAMES = (
    "Martín", "Nicolás", "Matías", "Santiago", "Juan Pablo", "Federico", "Gonzalo", "Diego",
    "Lucas", "Facundo", "Tomás", "Joaquín", "Agustín", "Franco", "Sebastián", "Alejandro",
    "Pablo", "Hernán", "Maximiliano", "Leandro", "Ezequiel", "Ignacio", "Mauricio", "Rodrigo",
    "Julián", "Emiliano", "Bruno", "Gustavo", "Ricardo", "Jorge", "Carlos", "Roberto", "Daniel",
    "Marcelo", "Fernando", "Sergio", "Cristian", "Walter", "Gastón", "Ramiro",
)  # fmt: skip

LAST_NAMES = (
    "González", "Rodríguez", "Gómez", "Fernández", "López", "Díaz", "Martínez", "Pérez",
    "García", "Sánchez", "Romero", "Sosa", "Álvarez", "Torres", "Ruiz", "Ramírez", "Flores",
    "Acosta", "Benítez", "Medina", "Suárez", "Herrera", "Aguirre", "Pereyra", "Gutiérrez",
    "Giménez", "Molina", "Silva", "Castro", "Rojas", "Ortiz", "Núñez", "Luna", "Juárez",
    "Cabrera", "Ríos", "Ferreyra", "Godoy", "Morales", "Domínguez", "Moreno", "Peralta",
    "Vega", "Carrizo", "Quiroga", "Castillo", "Ledesma", "Muñoz", "Ojeda", "Ponce", "Vera",
    "Vázquez", "Villalba", "Cardozo", "Navarro", "Correa", "Figueroa", "Rossi", "Russo",
    "Romano", "Bianchi", "Ferrari", "Costa", "Bruno", "Gallo", "Colombo", "Lombardi",
)  # fmt: skip

# Phone prefixes in E.164 (country 54, mobile 9, area code) with the digits that follow, and how
# common each city is among the bank's customers.
PHONE_AREAS: tuple[tuple[str, int, str, float], ...] = (
    # prefix, subscriber digits, allowed first digit, weight
    ("+54911", 8, "23456", 0.72),  # Ciudad y Gran Buenos Aires
    ("+549351", 7, "2345678", 0.11),  # Córdoba
    ("+549341", 7, "2345678", 0.10),  # Rosario
    ("+549261", 7, "2345678", 0.04),  # Mendoza
    ("+549221", 7, "23456", 0.03),  # La Plata
)


@dataclass(frozen=True)
class HumanAgent:
    """A person of the contact center: a console user (role agent) of the demo. Interactions are
    assigned to the `username`, which is what the agent scope compares."""

    username: str
    name: str
    queue: str

    @property
    def first_name(self) -> str:
        return self.name.split(" ")[0]


HUMAN_AGENTS = (
    HumanAgent("lucia.fernandez", "Lucía Fernández", "tarjetas"),
    HumanAgent("nicolas.herrera", "Nicolás Herrera", "tarjetas"),
    HumanAgent("agustina.medina", "Agustina Medina", "tarjetas"),
    HumanAgent("martin.gomez", "Martín Gómez", "prestamos"),
    HumanAgent("julieta.castro", "Julieta Castro", "prestamos"),
    HumanAgent("sofia.romero", "Sofía Romero", "cuentas"),
    HumanAgent("gonzalo.luna", "Gonzalo Luna", "cuentas"),
    HumanAgent("camila.benitez", "Camila Benítez", "cuentas"),
    HumanAgent("diego.acosta", "Diego Acosta", "fraude"),
    HumanAgent("florencia.rios", "Florencia Ríos", "fraude"),
    HumanAgent("valentina.sosa", "Valentina Sosa", "general"),
    HumanAgent("matias.rojas", "Matías Rojas", "general"),
)

QUEUE_LABELS = {
    "tarjetas": "Tarjetas",
    "prestamos": "Préstamos",
    "cuentas": "Cuentas",
    "fraude": "Prevención de Fraude",
    "general": "Atención al Cliente",
}

MERCHANTS = (
    "MercadoPago*Tienda Sur", "Supermercado La Esquina", "Farmacia Central", "YPF Full",
    "Netflix.com", "Spotify", "Despegar.com", "Garbarino Online", "Rappi", "PedidosYa",
    "Café Martínez", "Librería del Centro", "Steam Games", "Uber Trip", "Aerolíneas Argentinas",
)  # fmt: skip

PAYEES = (
    "Juan Pérez", "María Gómez", "Inmobiliaria del Parque", "Carlos Ruiz", "Estudio Contable Sosa",
    "Ana Torres", "Colegio San Martín", "Taller Mecánico Hnos. Díaz", "Laura Benítez",
)  # fmt: skip

TX_AMOUNTS = (
    "150000.00", "25000.00", "48500.00", "320000.00", "12750.50", "89900.00", "1200000.00",
    "64000.00", "230000.00", "7800.00",
)  # fmt: skip

# --- intents -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallScript:
    """One coherent voice conversation: opening, (agent, customer) steps, answer and summary.

    An outbound script (the bank calls) has `outbound_openings` (agent, customer) instead of the
    customer's `openings`. The summary reads "{El cliente} <topic>. <resolved>".
    """

    openings: tuple[str, ...]
    steps: tuple[tuple[str, str], ...]
    resolutions: tuple[str, ...]
    topic: str
    resolved: str
    outbound_openings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class WhatsAppStep:
    """One customer message and the bot's answer; `media` names an attachment the customer sends."""

    customer: str
    bot: str
    media: str | None = None


@dataclass(frozen=True)
class ChatScript:
    """One coherent WhatsApp conversation; an agent resolution with {ticket} opens a claim."""

    openings: tuple[str, ...]
    first_replies: tuple[str, ...]
    steps: tuple[WhatsAppStep, ...]
    agent_resolutions: tuple[str, ...]


@dataclass(frozen=True)
class IntentContent:
    key: str
    label: str
    queue: str
    call_weight: float
    whatsapp_weight: float
    calls: tuple[CallScript, ...]
    chats: tuple[ChatScript, ...]


INTENTS: tuple[IntentContent, ...] = (
    IntentContent(
        key="consulta_saldo",
        label="Consulta de saldo",
        queue="cuentas",
        call_weight=14,
        whatsapp_weight=16,
        calls=(
            CallScript(
                openings=(
                    "Hola, quería saber cuánto tengo disponible en la cuenta.",
                    "Buenas tardes, necesito consultar el saldo de mi caja de ahorro.",
                    "Buen día, quiero saber el saldo de la cuenta en pesos.",
                ),
                steps=(
                    (
                        "¿La consulta es por la caja de ahorro en pesos o por la cuenta en "
                        "dólares?",
                        "En pesos, por favor.",
                    ),
                    ("Perfecto. Aguarde un momento mientras consulto sus cuentas.", "Sí, espero."),
                ),
                resolutions=(
                    "Su saldo disponible en la caja de ahorro en pesos es de {saldo}.",
                    "En la caja de ahorro en pesos tiene disponible {saldo}. No hay movimientos "
                    "pendientes de acreditación.",
                ),
                topic="consultó el saldo disponible de su caja de ahorro en pesos",
                resolved="Se validó su identidad y el agente virtual informó el saldo disponible.",
            ),
            CallScript(
                openings=(
                    "Hola, ¿me puede decir si ya me acreditaron el sueldo?",
                    "Buenas, quería saber si ya entró el sueldo.",
                ),
                steps=(
                    ("¿El sueldo se le deposita en la caja de ahorro en pesos?", "Sí, en esa."),
                    ("Aguarde un momento mientras reviso los movimientos.", "Dale, gracias."),
                ),
                resolutions=(
                    "Sí, el {fecha} se acreditaron sus haberes. Su saldo disponible es de {saldo}.",
                ),
                topic="preguntó si se había acreditado su sueldo",
                resolved="Se confirmó la acreditación de haberes y se informó el saldo disponible.",
            ),
        ),
        chats=(
            ChatScript(
                openings=(
                    "Hola! quería saber mi saldo",
                    "Buenas, cómo consulto el saldo de mi cuenta?",
                ),
                first_replies=(
                    "¡Hola {nombre}! 👋 Soy el asistente virtual de {banco}. Para mostrarte el "
                    "saldo necesito validar tu identidad: te enviamos un código por SMS. Ingresalo "
                    "en la app cuando te lo pida.",
                ),
                steps=(
                    WhatsAppStep(
                        "Listo, ya lo validé",
                        "¡Gracias! Tu saldo disponible en la caja de ahorro en pesos es de "
                        "{saldo}.",
                    ),
                ),
                agent_resolutions=(
                    "Revisé tu cuenta: el saldo disponible en tu caja de ahorro en pesos es de "
                    "{saldo}. ¿Te puedo ayudar con algo más?",
                ),
            ),
            ChatScript(
                openings=("Hola, ya me depositaron el sueldo?", "Buenas! entró el sueldo?"),
                first_replies=("¡Hola {nombre}! Dame un segundo que reviso tus movimientos. 🔎",),
                steps=(
                    WhatsAppStep(
                        "Ok",
                        "Sí, el {fecha} se acreditaron tus haberes. Tu saldo disponible es de "
                        "{saldo}.",
                    ),
                ),
                agent_resolutions=(
                    "Confirmé que la acreditación de haberes del {fecha} ya está impactada en tu "
                    "cuenta.",
                ),
            ),
        ),
    ),
    IntentContent(
        key="bloqueo_tarjeta",
        label="Bloqueo de tarjeta",
        queue="tarjetas",
        call_weight=13,
        whatsapp_weight=11,
        calls=(
            CallScript(
                openings=(
                    "Hola, perdí la billetera y necesito bloquear la tarjeta de débito.",
                    "Hola, no encuentro mi tarjeta de débito y quiero bloquearla por las dudas.",
                ),
                steps=(
                    (
                        "Lamento lo ocurrido. ¿Me confirma si es la tarjeta de débito terminada "
                        "en {ult4}?",
                        "Sí, esa es.",
                    ),
                    ("¿Reconoce el último consumo, en {comercio}?", "Sí, ese lo hice yo."),
                    (
                        "Bien. Voy a bloquear la tarjeta en forma definitiva. ¿Desea que le "
                        "enviemos una reposición al domicilio registrado?",
                        "Sí, por favor.",
                    ),
                ),
                resolutions=(
                    "Listo, la tarjeta terminada en {ult4} quedó bloqueada. La reposición llega a "
                    "su domicilio en un plazo de 5 a 7 días hábiles.",
                ),
                topic="solicitó el bloqueo de su tarjeta de débito por extravío",
                resolved="Se bloqueó la tarjeta terminada en {ult4} y se pidió la reposición.",
            ),
            CallScript(
                openings=(
                    "Buenas noches, me robaron la tarjeta de crédito, quiero darla de baja ya.",
                    "Hola, me robaron la cartera con la tarjeta de crédito adentro.",
                ),
                steps=(
                    (
                        "Lamento mucho lo ocurrido. ¿Es la tarjeta de crédito terminada en {ult4}?",
                        "Sí.",
                    ),
                    (
                        "¿Hay algún consumo de hoy que no reconozca?",
                        "No sé, no me fijé todavía.",
                    ),
                    (
                        "Revisé y no hay consumos posteriores al robo. Procedo con la baja "
                        "definitiva y la reposición.",
                        "Perfecto, gracias.",
                    ),
                ),
                resolutions=(
                    "La tarjeta ya está dada de baja y no admite nuevos consumos. Pedimos una "
                    "nueva que le llegará en los próximos días hábiles.",
                ),
                topic="denunció el robo de su tarjeta de crédito y pidió la baja",
                resolved="Se dio de baja la tarjeta, sin consumos posteriores al robo, y se "
                "gestionó la reposición.",
            ),
        ),
        chats=(
            ChatScript(
                openings=(
                    "Hola, perdí la tarjeta de débito!! como la bloqueo?",
                    "Hola, quiero pausar mi tarjeta que no la encuentro",
                ),
                first_replies=(
                    "Hola {nombre}, lamentamos lo ocurrido. Podés pausarla al instante desde la "
                    "app, en Tarjetas > Pausar tarjeta. ¿Querés que la bloqueemos desde acá?",
                ),
                steps=(
                    WhatsAppStep(
                        "Sí, bloqueala por favor", "¿Es la tarjeta de débito terminada en {ult4}?"
                    ),
                    WhatsAppStep(
                        "Sí, esa",
                        "Listo ✅ La tarjeta terminada en {ult4} quedó bloqueada. La reposición "
                        "llega a tu domicilio en 5 a 7 días hábiles.",
                    ),
                ),
                agent_resolutions=(
                    "Ya bloqueé la tarjeta terminada en {ult4} y pedí la reposición. Te llega en "
                    "5 a 7 días hábiles al domicilio registrado.",
                ),
            ),
            ChatScript(
                openings=("Me robaron la billetera, necesito bloquear las tarjetas urgente",),
                first_replies=(
                    "Hola {nombre}, lamentamos lo ocurrido. Para tu seguridad ya pausamos tu "
                    "tarjeta de crédito terminada en {ult4}. ¿Querés darla de baja definitiva?",
                ),
                steps=(
                    WhatsAppStep(
                        "Sí, por favor",
                        "Listo, quedó dada de baja. Te recomendamos hacer la denuncia policial; "
                        "un asesor puede ayudarte con la reposición.",
                    ),
                ),
                agent_resolutions=(
                    "La tarjeta quedó dada de baja. Registramos la denuncia con el número "
                    "{ticket}; la reposición te llega en 5 a 7 días hábiles.",
                ),
            ),
        ),
    ),
    IntentContent(
        key="reclamo_cargo",
        label="Reclamo por cargo",
        queue="tarjetas",
        call_weight=12,
        whatsapp_weight=10,
        calls=(
            CallScript(
                openings=(
                    "Hola, en el resumen me aparece un cargo que no reconozco.",
                    "Hola, quiero reclamar un débito de {comercio} que yo no hice.",
                ),
                steps=(
                    (
                        "Entiendo. ¿Me indica el comercio y el importe del consumo que no "
                        "reconoce?",
                        "Es de {comercio}, por {monto}.",
                    ),
                    ("Gracias. ¿La tarjeta sigue en su poder?", "Sí, la tengo acá conmigo."),
                    ("Aguarde un momento mientras reviso los movimientos.", "Dale."),
                ),
                resolutions=(
                    "El cargo corresponde a una suscripción mensual de {comercio}. Le envié por "
                    "correo el detalle para que pueda darla de baja desde el comercio.",
                ),
                topic="desconoció un cargo de {comercio} en el resumen de su tarjeta",
                resolved="Se identificó que el cargo correspondía a una suscripción y se envió "
                "el detalle para darla de baja.",
            ),
            CallScript(
                openings=(
                    "Buenas, me cobraron dos veces una compra con la tarjeta.",
                    "Hola, tengo un consumo duplicado en la tarjeta de crédito.",
                ),
                steps=(
                    (
                        "Entiendo. ¿En qué comercio fue la compra y por qué importe?",
                        "En {comercio}, por {monto}.",
                    ),
                    ("Aguarde un momento mientras reviso los movimientos.", "Sí, espero."),
                ),
                resolutions=(
                    "Veo que el consumo figura duplicado. Ya pedí la reversión del segundo "
                    "cargo; se va a ver reflejado en su próximo resumen.",
                ),
                topic="informó un consumo cobrado dos veces en su tarjeta de crédito",
                resolved="Se verificó el consumo duplicado y se solicitó la reversión del "
                "segundo cargo.",
            ),
        ),
        chats=(
            ChatScript(
                openings=(
                    "Hola, tengo un cargo en la tarjeta que no reconozco",
                    "Hola! me aparece un consumo de {comercio} que no hice",
                ),
                first_replies=(
                    "¡Hola {nombre}! Para revisar el cargo, enviame por favor una captura del "
                    "movimiento.",
                ),
                steps=(
                    WhatsAppStep(
                        "Te paso la captura",
                        "Gracias, ya la recibí. Para iniciar el desconocimiento te va a atender "
                        "un asesor.",
                        media="captura.jpg",
                    ),
                ),
                agent_resolutions=(
                    "Ya inicié el desconocimiento del consumo de {comercio}. El número de "
                    "reclamo es {ticket} y tenés respuesta en hasta 10 días hábiles.",
                ),
            ),
            ChatScript(
                openings=("Buenas tardes, me cobraron dos veces lo mismo",),
                first_replies=(
                    "Hola {nombre}, te ayudo con eso. ¿Me contás el comercio, la fecha y el "
                    "importe del consumo?",
                ),
                steps=(
                    WhatsAppStep(
                        "Fue en {comercio} por {monto}, el {fecha}",
                        "Veo los dos consumos. Ya pedimos la reversión del duplicado; lo vas a "
                        "ver en tu próximo resumen.",
                    ),
                ),
                agent_resolutions=(
                    "Revisé el movimiento: el cargo estaba duplicado y ya pedí la reversión. Lo "
                    "vas a ver en tu próximo resumen.",
                ),
            ),
        ),
    ),
    IntentContent(
        key="prestamo_personal",
        label="Préstamo personal",
        queue="prestamos",
        call_weight=10,
        whatsapp_weight=11,
        calls=(
            CallScript(
                openings=(
                    "Hola, quería consultar por un préstamo personal.",
                    "Buenas, ¿cuánto me prestan y a qué tasa?",
                    "Hola, en la app me aparece un préstamo preaprobado y quiero más información.",
                ),
                steps=(
                    (
                        "Con gusto. ¿Qué monto necesita y en cuántas cuotas lo quiere devolver?",
                        "Alrededor de {prestamo}, en doce cuotas.",
                    ),
                    (
                        "Tiene un préstamo preaprobado por ese monto, con cuota fija en pesos. "
                        "¿Quiere que le cuente las condiciones?",
                        "Sí, dígame cuánto me quedaría la cuota.",
                    ),
                ),
                resolutions=(
                    "La cuota mensual le quedaría en {cuota}, con débito automático en su caja "
                    "de ahorro. Puede confirmarlo desde la app en Préstamos y se acredita en el "
                    "momento.",
                    "Le envié la simulación por correo electrónico. Si la confirma hoy en la app, "
                    "el dinero se acredita en el acto.",
                ),
                topic="consultó las condiciones de un préstamo personal",
                resolved="Se informó el monto preaprobado, la cuota estimada y cómo solicitarlo "
                "desde la app.",
            ),
            CallScript(
                openings=(),
                outbound_openings=(
                    (
                        "Hola, ¿hablo con {nombre}? Le llamamos de {banco} porque tiene un "
                        "préstamo personal preaprobado. ¿Tiene un minuto?",
                        "Sí, dígame.",
                    ),
                ),
                steps=(
                    (
                        "Tiene disponible hasta {prestamo}, en hasta cuarenta y ocho cuotas fijas. "
                        "¿Le interesa conocer la cuota?",
                        "Sí, en doce cuotas, ¿cuánto sería?",
                    ),
                ),
                resolutions=(
                    "En doce cuotas le quedaría en {cuota}. Si le interesa, lo confirma desde la "
                    "app y se acredita en el momento.",
                ),
                topic="recibió una llamada con la oferta de un préstamo personal preaprobado",
                resolved="Se informaron el monto disponible y la cuota en doce meses.",
            ),
        ),
        chats=(
            ChatScript(
                openings=("Hola, quiero sacar un préstamo", "Buenas! cuánto me pueden prestar?"),
                first_replies=(
                    "¡Hola {nombre}! Tenés un préstamo personal preaprobado de hasta {prestamo}. "
                    "¿Querés que te muestre las cuotas?",
                ),
                steps=(
                    WhatsAppStep(
                        "Sí, en 12 cuotas",
                        "En 12 cuotas la cuota fija quedaría en {cuota}. Podés confirmarlo desde "
                        "la app y se acredita en el momento.",
                    ),
                    WhatsAppStep(
                        "Y si lo quiero en 24?",
                        "En 24 cuotas la cuota baja, pero el costo financiero total es mayor. "
                        "Podés simular distintas opciones en la app, en Préstamos.",
                    ),
                ),
                agent_resolutions=(
                    "Te armé la simulación en 24 cuotas y te la dejé en la app para que la "
                    "confirmes cuando quieras.",
                ),
            ),
            ChatScript(
                openings=("Hola, me llegó una oferta de préstamo por mensaje, es real?",),
                first_replies=(
                    "¡Hola {nombre}! Las ofertas de {banco} solo las vas a ver en la app, en "
                    "Préstamos. Nunca te vamos a pedir claves ni códigos por mensaje. 🔒",
                ),
                steps=(
                    WhatsAppStep(
                        "En la app no me aparece nada",
                        "Entonces ese mensaje no es nuestro. No ingreses al enlace ni compartas "
                        "datos.",
                    ),
                ),
                agent_resolutions=(
                    "Revisé tu cuenta y no tenés ofertas enviadas por mensaje: ese contacto no "
                    "es del banco. Ya lo reportamos a Prevención de Fraude.",
                ),
            ),
        ),
    ),
    IntentContent(
        key="cambio_clave",
        label="Cambio de clave",
        queue="cuentas",
        call_weight=12,
        whatsapp_weight=12,
        calls=(
            CallScript(
                openings=(
                    "Hola, me bloqueé el usuario de home banking y no puedo entrar.",
                    "Buenas, olvidé la clave de la app y quiero cambiarla.",
                ),
                steps=(
                    (
                        "Por seguridad le vamos a enviar un código por SMS al celular "
                        "registrado. Ingréselo en la app cuando se lo pida.",
                        "Ya me llegó, lo estoy poniendo.",
                    ),
                    (
                        "Perfecto, ya figura validado. Ahora la app le va a pedir una clave nueva "
                        "de ocho caracteres.",
                        "Listo, ya la cambié.",
                    ),
                ),
                resolutions=(
                    "Excelente, su usuario quedó desbloqueado y la clave nueva ya está activa.",
                ),
                topic="no podía ingresar a home banking y pidió restablecer la clave",
                resolved="Se validó su identidad con un código por SMS y se restableció la clave.",
            ),
            CallScript(
                openings=("Hola, necesito blanquear el PIN de la tarjeta de débito.",),
                steps=(
                    (
                        "Por seguridad le vamos a enviar un código por SMS al celular "
                        "registrado. Ingréselo en la app cuando se lo pida.",
                        "Listo, ya lo ingresé.",
                    ),
                    (
                        "Gracias. El blanqueo se hace en cualquier cajero de la red: elija "
                        "Blanqueo de PIN e ingrese una clave nueva de cuatro dígitos.",
                        "Perfecto, voy hoy.",
                    ),
                ),
                resolutions=(
                    "Listo, el blanqueo del PIN quedó habilitado por cuarenta y ocho horas.",
                ),
                topic="pidió el blanqueo del PIN de su tarjeta de débito",
                resolved="Se validó su identidad con un código por SMS y se habilitó el blanqueo "
                "del PIN.",
            ),
        ),
        chats=(
            ChatScript(
                openings=(
                    "Hola, se me bloqueó el usuario",
                    "Olvidé mi clave de home banking, qué hago?",
                    "Hola, no puedo entrar a la app, me dice clave incorrecta",
                ),
                first_replies=(
                    '¡Hola {nombre}! Podés generar una clave nueva desde la app: tocá "Olvidé mi '
                    'clave" y seguí los pasos. Te vamos a enviar un código por SMS para validar '
                    "tu identidad.",
                    "Hola {nombre}, te ayudo. Por seguridad nunca te vamos a pedir tu clave por "
                    'acá. ¿Ya probaste la opción "Olvidé mi clave" en la app?',
                ),
                steps=(
                    WhatsAppStep(
                        "Sí, pero no me llega el SMS",
                        "Revisá que tu celular tenga señal y esperá un minuto. Si sigue sin "
                        "llegar, podés pedir otro código desde la misma pantalla.",
                    ),
                    WhatsAppStep(
                        "Ahora sí llegó, ya la cambié",
                        "¡Genial! Ya podés ingresar con tu clave nueva. 🔐",
                    ),
                ),
                agent_resolutions=(
                    'Ya desbloqueé tu usuario. Probá de nuevo con "Olvidé mi clave" y avisame si '
                    "te llega el código.",
                ),
            ),
        ),
    ),
    IntentContent(
        key="activacion_tarjeta",
        label="Activación de tarjeta",
        queue="tarjetas",
        call_weight=10,
        whatsapp_weight=10,
        calls=(
            CallScript(
                openings=(
                    "Hola, me llegó la tarjeta nueva y quiero activarla.",
                    "Buenas, recibí la tarjeta de crédito, ¿cómo la habilito?",
                ),
                steps=(
                    (
                        "¡Qué bien! ¿Me confirma los últimos cuatro números de la tarjeta que "
                        "recibió?",
                        "Sí, termina en {ult4}.",
                    ),
                    ("Gracias. ¿La tarjeta anterior la tiene con usted?", "Sí, la voy a cortar."),
                ),
                resolutions=(
                    "La tarjeta terminada en {ult4} ya está activa. Recuerde destruir la anterior.",
                    "Listo, la tarjeta quedó habilitada para compras en el país y en el exterior.",
                ),
                topic="solicitó activar la tarjeta nueva que recibió en su domicilio",
                resolved="Se activó la tarjeta terminada en {ult4} y se recordó destruir el "
                "plástico anterior.",
            ),
        ),
        chats=(
            ChatScript(
                openings=(
                    "Hola, me llegó la tarjeta nueva",
                    "Cómo activo la tarjeta de crédito?",
                    "Buenas, quiero activar la tarjeta que me llegó hoy",
                ),
                first_replies=(
                    "¡Hola {nombre}! Podés activarla desde la app en Tarjetas > Activar tarjeta. "
                    "¿Es la terminada en {ult4}?",
                ),
                steps=(
                    WhatsAppStep(
                        "Sí, esa",
                        "Perfecto. Cuando la actives, la anterior deja de funcionar. 💳",
                    ),
                    WhatsAppStep(
                        "Ya está, la activé", "¡Excelente! Tu tarjeta ya está lista para usar. ✅"
                    ),
                ),
                agent_resolutions=(
                    "Ya activé tu tarjeta terminada en {ult4}. Podés usarla desde ahora.",
                ),
            ),
        ),
    ),
    IntentContent(
        key="consulta_inversiones",
        label="Consulta de inversiones",
        queue="general",
        call_weight=6,
        whatsapp_weight=7,
        calls=(
            CallScript(
                openings=(
                    "Buenas, tengo un plazo fijo que vence hoy y quiero renovarlo.",
                    "Hola, quería saber la tasa del plazo fijo a treinta días.",
                ),
                steps=(
                    (
                        "Con gusto. ¿El plazo fijo sería a treinta días y en pesos?",
                        "Sí, a treinta días.",
                    ),
                    (
                        "¿Desea renovar también los intereses o solo el capital?",
                        "Todo, capital e intereses.",
                    ),
                ),
                resolutions=(
                    "La tasa vigente la puede ver en la app, en Inversiones. Le dejé configurada "
                    "la renovación automática del capital y los intereses.",
                ),
                topic="consultó por la renovación de un plazo fijo en pesos",
                resolved="Se informaron las condiciones vigentes y se configuró la renovación "
                "automática.",
            ),
            CallScript(
                openings=("Hola, quisiera información sobre los fondos comunes de inversión.",),
                steps=(
                    (
                        "Con gusto. ¿Ya completó su perfil de inversor en la app?",
                        "No, todavía no.",
                    ),
                    (
                        "Lo puede completar en Inversiones, Perfil del inversor; son cinco "
                        "preguntas.",
                        "Ah, bien, lo hago después.",
                    ),
                ),
                resolutions=(
                    "Le envié por correo el detalle de los fondos disponibles. Cuando complete el "
                    "perfil puede suscribirlos desde la app.",
                ),
                topic="pidió información sobre fondos comunes de inversión",
                resolved="Se explicó cómo completar el perfil de inversor y se envió información "
                "de los fondos.",
            ),
        ),
        chats=(
            ChatScript(
                openings=("Hola, a cuánto está el plazo fijo?",),
                first_replies=(
                    "¡Hola {nombre}! Podés ver la tasa vigente y simular tu plazo fijo en la app, "
                    "en Inversiones > Plazo fijo. 📈",
                ),
                steps=(
                    WhatsAppStep(
                        "Y si lo quiero renovar automático?",
                        "Al constituirlo elegí la opción Renovación automática; podés cambiarla "
                        "hasta el día del vencimiento.",
                    ),
                ),
                agent_resolutions=(
                    "Te dejé configurada la renovación automática del plazo fijo que vence el "
                    "{vence}.",
                ),
            ),
            ChatScript(
                openings=("Quiero invertir en un fondo, qué opciones hay?",),
                first_replies=(
                    "¡Hola {nombre}! Tenemos fondos de liquidez inmediata y de renta fija. ¿Ya "
                    "completaste tu perfil de inversor?",
                ),
                steps=(
                    WhatsAppStep(
                        "No, cómo lo hago?",
                        "Lo completás en la app, en Inversiones > Perfil del inversor. Son cinco "
                        "preguntas.",
                    ),
                    WhatsAppStep(
                        "Listo, ya lo hice",
                        "¡Genial! Ahora ya podés suscribir cualquiera de los fondos disponibles.",
                    ),
                ),
                agent_resolutions=(
                    "Te comparto las opciones de fondos de acuerdo a tu perfil. Cualquier duda, "
                    "escribime por acá.",
                ),
            ),
        ),
    ),
    IntentContent(
        key="denuncia_fraude",
        label="Denuncia de fraude",
        queue="fraude",
        call_weight=8,
        whatsapp_weight=8,
        calls=(
            CallScript(
                openings=(
                    "Hola, me llamaron diciendo que eran del banco y me pidieron un código. Creo "
                    "que me estafaron.",
                    "Buenas, me entró un mensaje raro con un link del banco y le di clic.",
                ),
                steps=(
                    (
                        "Hizo bien en llamarnos. Le recuerdo que {banco} nunca le pide claves ni "
                        "códigos. ¿Compartió algún código o clave?",
                        "Sí, le pasé un código que me llegó por SMS.",
                    ),
                    (
                        "Entiendo. Por seguridad voy a bloquear preventivamente el acceso a home "
                        "banking y sus tarjetas.",
                        "Sí, por favor, hágalo.",
                    ),
                    ("Ya quedó bloqueado. ¿Reconoce alguna operación de hoy?", "No, ninguna."),
                ),
                resolutions=(
                    "Los accesos quedaron bloqueados y no se registran movimientos nuevos. Puede "
                    "generar una clave nueva desde la app cuando quiera.",
                ),
                topic="reportó un posible fraude en el que compartió un código de seguridad",
                resolved="Se bloquearon preventivamente los accesos y las tarjetas; no hubo "
                "movimientos nuevos.",
            ),
            CallScript(
                openings=("Hola, me aparecen transferencias que yo no hice.",),
                steps=(
                    (
                        "Lamento la situación. Por seguridad voy a bloquear preventivamente el "
                        "acceso a home banking.",
                        "Sí, por favor.",
                    ),
                    (
                        "¿Me indica el importe de las transferencias que no reconoce?",
                        "Una de {monto}, hoy a la mañana.",
                    ),
                ),
                resolutions=(
                    "Bloqueamos los accesos y pedimos a la entidad de destino la retención de los "
                    "fondos. Le enviamos el detalle por correo electrónico.",
                ),
                topic="desconoció transferencias realizadas desde su cuenta",
                resolved="Se bloquearon los accesos y se solicitó la retención de los fondos en "
                "destino.",
            ),
            CallScript(
                openings=(),
                outbound_openings=(
                    (
                        "Buenas tardes, ¿hablo con {nombre}? Le llamamos del área de Prevención "
                        "de Fraude de {banco} para verificar una compra con su tarjeta terminada "
                        "en {ult4}.",
                        "Sí, soy yo, dígame.",
                    ),
                ),
                steps=(
                    (
                        "Figura una compra en {comercio} por {monto} hace unos minutos. ¿La "
                        "reconoce?",
                        "No, yo no hice esa compra.",
                    ),
                    (
                        "Entiendo. Voy a anular la operación y bloquear la tarjeta terminada en "
                        "{ult4}.",
                        "Sí, por favor.",
                    ),
                ),
                resolutions=(
                    "Listo, anulamos la compra y la tarjeta quedó bloqueada. La reposición le "
                    "llega en 5 a 7 días hábiles.",
                ),
                topic="recibió una llamada de verificación por una compra en {comercio}",
                resolved="Desconoció la compra: se anuló la operación y se bloqueó la tarjeta.",
            ),
        ),
        chats=(
            ChatScript(
                openings=(
                    "Hola, me llegó un mensaje diciendo que mi cuenta fue suspendida, es de "
                    "ustedes?",
                    "Me escribieron de un número del banco pidiendo el código que me llegó",
                ),
                first_replies=(
                    "Hola {nombre}. ⚠️ {banco} nunca te pide claves, códigos ni datos de tarjetas "
                    "por mensaje o llamada. No compartas nada y no ingreses a enlaces que no sean "
                    "de nuestra app.",
                ),
                steps=(
                    WhatsAppStep(
                        "Te mando captura del mensaje",
                        "Gracias. Es un intento de fraude: ese número no es del banco. Ya lo "
                        "reportamos.",
                        media="captura.jpg",
                    ),
                ),
                agent_resolutions=(
                    "Revisé tu cuenta y no hay movimientos nuevos. Igual bloqueamos los accesos "
                    "por las dudas; podés generar una clave nueva desde la app.",
                ),
            ),
            ChatScript(
                openings=(
                    "Creo que me hackearon la cuenta",
                    "Le pasé un código a alguien que dijo ser del banco 😟",
                ),
                first_replies=(
                    "Hola {nombre}, gracias por avisarnos. ¿Compartiste algún código o clave?",
                ),
                steps=(
                    WhatsAppStep(
                        "Sí, les pasé un código",
                        "No te preocupes, te derivo ya mismo con el equipo de Prevención de "
                        "Fraude.",
                    ),
                ),
                agent_resolutions=(
                    "Ya bloqueé tus accesos y tarjetas de forma preventiva y registramos el caso "
                    "{ticket}. Te vamos a llamar para continuar.",
                ),
            ),
        ),
    ),
    IntentContent(
        key="consulta_transferencia",
        label="Consulta de transferencia",
        queue="cuentas",
        call_weight=15,
        whatsapp_weight=15,
        calls=(
            CallScript(
                openings=(
                    "Hola, hice una transferencia ayer y todavía no le llegó a la otra persona.",
                ),
                steps=(
                    (
                        "¿Me indica el importe y la fecha de la transferencia?",
                        "Fue de {monto}, el {fecha}.",
                    ),
                    ("Aguarde un momento mientras la busco.", "Sí, claro."),
                ),
                resolutions=(
                    "La transferencia figura acreditada en destino desde el {fecha}. El "
                    "comprobante lo puede descargar desde la app, en Movimientos.",
                ),
                topic="consultó por una transferencia que no había llegado a destino",
                resolved="Se confirmó que la transferencia estaba acreditada y cómo descargar el "
                "comprobante.",
            ),
            CallScript(
                openings=(
                    "Buenas, quiero saber cuál es el límite para transferir.",
                    "Hola, necesito transferir más de lo que me deja la app.",
                ),
                steps=(
                    (
                        "¿La transferencia sería a una cuenta propia o de un tercero?",
                        "De un tercero.",
                    ),
                ),
                resolutions=(
                    "Su límite diario para transferencias a terceros es de {limite}. Puede "
                    "aumentarlo desde la app con un código de verificación.",
                ),
                topic="preguntó por el límite diario de transferencias",
                resolved="Se informó el límite vigente y cómo ampliarlo desde la app.",
            ),
            CallScript(
                openings=("Hola, me tenían que transferir y no me aparece la plata.",),
                steps=(
                    (
                        "¿Sabe el importe y desde qué banco se la enviaron?",
                        "Sí, {monto}, desde otro banco.",
                    ),
                    ("Aguarde un momento mientras reviso sus movimientos.", "Dale."),
                ),
                resolutions=(
                    "Todavía no figura una acreditación por ese importe. Las transferencias "
                    "inmediatas se acreditan en el momento; le sugiero pedir el comprobante a "
                    "quien la envió.",
                ),
                topic="consultó por una transferencia que esperaba recibir",
                resolved="No se registraba la acreditación; se sugirió pedir el comprobante al "
                "emisor.",
            ),
        ),
        chats=(
            ChatScript(
                openings=("Hola, hice una transferencia y no llegó",),
                first_replies=(
                    "¡Hola {nombre}! Las transferencias inmediatas se acreditan en el momento. "
                    "¿Me pasás el comprobante así la reviso?",
                ),
                steps=(
                    WhatsAppStep(
                        "Acá está el comprobante",
                        "Gracias. La transferencia figura acreditada en destino. Puede demorar "
                        "en verse en la otra entidad.",
                        media="comprobante.jpg",
                    ),
                ),
                agent_resolutions=(
                    "Revisé la transferencia del {fecha}: está acreditada en destino. Si la otra "
                    "persona no la ve, que consulte con su banco.",
                ),
            ),
            ChatScript(
                openings=("Buenas, cómo aumento el límite para transferir?",),
                first_replies=(
                    "¡Hola {nombre}! Podés ampliarlo desde la app, en Transferencias > Límites. "
                    "Te vamos a pedir un código por SMS. 🔐",
                ),
                steps=(
                    WhatsAppStep(
                        "Hasta cuánto lo puedo subir?",
                        "Depende de tu perfil: en la misma pantalla ves el máximo disponible "
                        "para tu cuenta.",
                    ),
                ),
                agent_resolutions=(
                    "Te amplié el límite diario de transferencias por hoy. Mañana vuelve al "
                    "valor habitual.",
                ),
            ),
            ChatScript(
                openings=("Hola! me pasás el CBU de mi cuenta?",),
                first_replies=(
                    "¡Hola {nombre}! Podés ver tu CBU y alias en la app, en Cuentas > Datos de "
                    "la cuenta, y compartirlos desde ahí. 🏦",
                ),
                steps=(
                    WhatsAppStep(
                        "Ok, y el alias lo puedo cambiar?",
                        "Sí, en la misma pantalla tocá Modificar alias.",
                    ),
                ),
                agent_resolutions=(
                    "Te confirmo que el alias lo podés modificar desde la app, en Cuentas > "
                    "Datos de la cuenta.",
                ),
            ),
        ),
    ),
)

INTENTS_BY_KEY = {intent.key: intent for intent in INTENTS}

# --- voice calls -------------------------------------------------------------------------------

CALL_GREETINGS = (
    "Hola, gracias por comunicarse con {banco}. Soy el asistente virtual. ¿En qué lo puedo ayudar?",
    "Bienvenido a {banco}. Le habla el asistente virtual. ¿En qué puedo ayudarlo hoy?",
    "Hola, le habla el asistente virtual de {banco}. Cuénteme, ¿qué necesita?",
)

CALL_IDENTITY_STEPS = (
    (
        "Con gusto. Para continuar necesito validar su identidad. ¿Me indica los últimos tres "
        "números de su DNI?",
        "Sí, {dni3}.",
    ),
    (
        "Antes de seguir, ¿me confirma los últimos tres números de su documento?",
        "Sí, terminan en {dni3}.",
    ),
)

CALL_THANKS = (
    "Perfecto, muchas gracias.",
    "Buenísimo, gracias por la ayuda.",
    "Listo, eso era todo. Gracias.",
    "Bárbaro, muchas gracias.",
)

CALL_FAREWELLS = (
    "Gracias a usted por comunicarse con {banco}. ¡Que tenga un buen día!",
    "Fue un gusto poder ayudarle. Hasta luego.",
    "Gracias por llamar. Si necesita algo más, estamos las veinticuatro horas.",
)

CALL_TRANSFER_LINES = (
    "Entiendo. Lo comunico con un asesor del área de {cola}. Aguarde en línea, por favor.",
    "Para esta gestión lo transfiero con un representante de {cola}. Un momento, por favor.",
)

CALL_TRANSFER_REQUESTS = (
    "Prefiero hablar con una persona, por favor.",
    "¿Me puede pasar con un asesor?",
    "Quiero hablar con alguien del área, por favor.",
)

CALL_ESCALATE_LINES = (
    "Su caso necesita la revisión de un especialista del área de {cola}. Lo van a contactar "
    "dentro de las próximas veinticuatro horas hábiles.",
    "Voy a derivar su consulta al equipo de {cola}; un especialista lo llamará a la brevedad.",
)

CALL_TICKET_LINES = (
    "Registré su solicitud con el número {ticket}. Va a recibir una respuesta en un plazo de hasta "
    "diez días hábiles.",
    "Listo, generé el caso {ticket}. Le llega la confirmación por correo electrónico.",
)

CALL_UNKNOWN_ENDINGS = (
    "Perdón, se está cortando... después vuelvo a llamar.",
    "Ah, no, espere, mejor lo veo en la app. Chau.",
    "Bueno, no importa, lo consulto en la sucursal.",
)

ABANDONED_SUMMARIES = (
    "Llamada sin interacción: el cliente cortó durante el saludo inicial.",
    "El cliente finalizó la llamada antes de plantear su consulta.",
)

FAILED_SUMMARIES = ("La llamada no pudo establecerse.",)

OUTCOME_SUMMARIES = {
    "TRANSFERRED": (
        "Solicitó ser atendido por un asesor y la llamada se transfirió al equipo de {cola}.",
        "El agente virtual transfirió la llamada a un representante de {cola}.",
    ),
    "ESCALATED": (
        "El caso requiere revisión de un especialista; se derivó al área de {cola}.",
        "Se escaló la consulta al equipo de {cola} para un contacto posterior.",
    ),
    "TICKETED": (
        "Se generó el reclamo {ticket} con un plazo de respuesta de diez días hábiles.",
        "Se registró el caso {ticket} y se envió la confirmación por correo.",
    ),
    "UNKNOWN": (
        "La llamada terminó antes de completar la gestión; no se pudo confirmar la resolución.",
        "El cliente cortó antes de finalizar; la consulta quedó sin resolver.",
    ),
}

HANGUP_REASONS = {
    "RESOLVED": ("end_call tool", "end_call tool", "end_call tool", "customer hung up"),
    "TRANSFERRED": ("transfer",),
    "ESCALATED": ("end_call tool", "customer hung up"),
    "TICKETED": ("end_call tool",),
    "UNKNOWN": ("customer hung up", "silence timeout", "customer hung up"),
    "ABANDONED": ("customer hung up",),
    "FAILED_INBOUND": ("connection error", "sip error 503"),
    "FAILED_OUTBOUND": ("call initiation failure: no-answer", "call initiation failure: busy"),
}

# --- WhatsApp ----------------------------------------------------------------------------------

WHATSAPP_THANKS = (
    "Gracias!",
    "Genial, muchas gracias 🙌",
    "Perfecto 👍",
    "Buenísimo, gracias!",
    "Ok, gracias",
)

WHATSAPP_BOT_FAREWELLS = (
    "¡De nada, {nombre}! Si necesitás algo más, escribinos por acá. 😊",
    "Gracias por comunicarte con {banco}. ¡Que tengas un buen día!",
    "¡Un gusto ayudarte! Recordá que nunca te vamos a pedir claves ni códigos.",
)

# What the bot answers a first message it has no script for.
WHATSAPP_BOT_GENERIC_REPLIES = (
    "¡Hola {nombre}! 👋 Soy el asistente virtual de {banco}. Contame en qué te puedo ayudar.",
    "Hola {nombre}, gracias por escribirle a {banco}. ¿En qué te ayudo hoy?",
)

WHATSAPP_HANDOFF_REQUESTS = (
    "Quiero hablar con una persona",
    "Me pasás con un asesor?",
    "Necesito que me atienda alguien por favor",
)

WHATSAPP_HANDOFF_REPLIES = (
    "Te derivo con un asesor del equipo de {cola}. En breve te responde. ⏳",
    "¡Claro! Un asesor de {cola} va a continuar la conversación en unos minutos.",
)

# The agent's first message and what the customer answers to it.
WHATSAPP_AGENT_INTROS = (
    (
        "Hola {nombre}, soy {agente} del equipo de {cola}. Ya leí tu consulta, dame un minuto que "
        "lo reviso.",
        ("Dale, gracias", "Ok, espero"),
    ),
    (
        "¡Hola {nombre}! Te habla {agente}, de {cola}. ¿Me confirmás tu DNI terminado en {dni3}?",
        ("Sí, soy yo", "Sí, correcto"),
    ),
)

WHATSAPP_AGENT_FAREWELLS = (
    "¡Gracias a vos, {nombre}! Cierro la conversación. Que tengas un lindo día.",
    "Quedo a disposición. ¡Saludos!",
)

WHATSAPP_ABANDONED = (
    ("Hola",),
    ("Hola, buenas noches", "Hay alguien?"),
    ("Necesito ayuda con mi tarjeta",),
    ("Hola, una consulta", "?"),
)

MEDIA_CONTENT_TYPES = {
    "captura.jpg": "image/jpeg",
    "comprobante.jpg": "image/jpeg",
}

# --- SMS ---------------------------------------------------------------------------------------

SMS_TEXTS = (
    "{banco}: el resumen de tu tarjeta ya está disponible en la app. Vence el {vence}.",
    "{banco}: recibimos tu reclamo {ticket}. Te vamos a responder en hasta 10 días hábiles.",
    "{banco}: tu préstamo personal fue acreditado en tu caja de ahorro.",
    "{banco}: tu tarjeta nueva está en camino. Llega en 5 a 7 días hábiles.",
    "{banco}: bloqueamos preventivamente tu tarjeta terminada en {ult4}. Llamanos al {ayuda}.",
    "{banco}: hola {nombre}, te escribimos por tu consulta. Respondé a este número o llamanos "
    "al {ayuda}.",
    "{banco}: tu plazo fijo vence el {vence}. Podés renovarlo desde la app.",
)

SMS_VERIFICATION_LINK = (
    "{banco}: para validar tu identidad ingresá a este enlace, que vence en 24 horas: {url}",
    "{banco}: completá la verificación de tu identidad en {url} (válido por 24 horas).",
)

SMS_ONBOARDING_LINK = (
    "¡Hola {nombre}! {bienvenido} a {banco}. Completá el alta de tu cuenta en {url}",
    "{banco}: {nombre}, ya casi terminás. Seguí tu solicitud de cuenta en {url}",
)

SMS_CARD_ACTIVATION = (
    "{banco}: para activar tu tarjeta terminada en {ult4} ingresá a la app > Tarjetas > Activar "
    "tarjeta. Si no la pediste, llamanos al {ayuda}.",
    "{banco}: tu tarjeta terminada en {ult4} ya fue entregada. Activala desde la app en "
    "Tarjetas > Activar.",
)

# Permanent and delivery errors as the SMS provider reports them: code, message, final status.
SMS_ERRORS = (
    ("30003", "Unreachable destination handset", "UNDELIVERED"),
    ("30005", "Unknown destination handset", "UNDELIVERED"),
    ("30006", "Landline or unreachable carrier", "UNDELIVERED"),
    ("30008", "Unknown error", "FAILED"),
    ("21610", "Attempt to send to unsubscribed recipient", "FAILED"),
)
