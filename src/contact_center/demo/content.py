"""Spanish wording of the demo data set: names, call scripts, WhatsApp chats, SMS texts.

Everything here is fictional. Names are common Argentine first names and surnames combined at
random; numbers, tickets and amounts are made up by the generator. Templates use `str.format`
placeholders that the generator fills for each interaction:

    {nombre}   customer's first name          {agente}  human agent's first name
    {cola}     queue label ("Tarjetas")       {ticket}  claim number ("RC-483920")
    {ult4}     last four digits of a card     {dni3}    last three digits of the DNI
    {saldo}    an amount in pesos ("$ 1.234,56")
    {monto}    another amount in pesos        {fecha}   a recent date ("14/11")
    {comercio} a merchant name                {url}     a link under the bank's site

Conversational style: the voice agent speaks formally ("usted"), WhatsApp and SMS use the
Argentine "vos", as Argentine banks do in their digital channels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BANK_NAME = "Banco Demo"
BANK_VOICE_LINE = "+541152500000"
BANK_WHATSAPP_NUMBER = "+5491152500001"
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
)

MALE_FIRST_NAMES = (
    "Martín", "Nicolás", "Matías", "Santiago", "Juan Pablo", "Federico", "Gonzalo", "Diego",
    "Lucas", "Facundo", "Tomás", "Joaquín", "Agustín", "Franco", "Sebastián", "Alejandro",
    "Pablo", "Hernán", "Maximiliano", "Leandro", "Ezequiel", "Ignacio", "Mauricio", "Rodrigo",
    "Julián", "Emiliano", "Bruno", "Gustavo", "Ricardo", "Jorge", "Carlos", "Roberto", "Daniel",
    "Marcelo", "Fernando", "Sergio", "Cristian", "Walter", "Gastón", "Ramiro",
)

LAST_NAMES = (
    "González", "Rodríguez", "Gómez", "Fernández", "López", "Díaz", "Martínez", "Pérez",
    "García", "Sánchez", "Romero", "Sosa", "Álvarez", "Torres", "Ruiz", "Ramírez", "Flores",
    "Acosta", "Benítez", "Medina", "Suárez", "Herrera", "Aguirre", "Pereyra", "Gutiérrez",
    "Giménez", "Molina", "Silva", "Castro", "Rojas", "Ortiz", "Núñez", "Luna", "Juárez",
    "Cabrera", "Ríos", "Ferreyra", "Godoy", "Morales", "Domínguez", "Moreno", "Peralta",
    "Vega", "Carrizo", "Quiroga", "Castillo", "Ledesma", "Muñoz", "Ojeda", "Ponce", "Vera",
    "Vázquez", "Villalba", "Cardozo", "Navarro", "Correa", "Figueroa", "Rossi", "Russo",
    "Romano", "Bianchi", "Ferrari", "Costa", "Bruno", "Gallo", "Colombo", "Lombardi",
)

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
    name: str
    queue: str

    @property
    def first_name(self) -> str:
        return self.name.split(" ")[0]


HUMAN_AGENTS = (
    HumanAgent("Lucía Fernández", "tarjetas"),
    HumanAgent("Nicolás Herrera", "tarjetas"),
    HumanAgent("Agustina Medina", "tarjetas"),
    HumanAgent("Martín Gómez", "prestamos"),
    HumanAgent("Julieta Castro", "prestamos"),
    HumanAgent("Sofía Romero", "cuentas"),
    HumanAgent("Gonzalo Luna", "cuentas"),
    HumanAgent("Camila Benítez", "cuentas"),
    HumanAgent("Diego Acosta", "fraude"),
    HumanAgent("Florencia Ríos", "fraude"),
    HumanAgent("Valentina Sosa", "general"),
    HumanAgent("Matías Rojas", "general"),
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
)

PAYEES = (
    "Juan Pérez", "María Gómez", "Inmobiliaria del Parque", "Carlos Ruiz", "Estudio Contable Sosa",
    "Ana Torres", "Colegio San Martín", "Taller Mecánico Hnos. Díaz", "Laura Benítez",
)

TX_AMOUNTS = (
    "150000.00", "25000.00", "48500.00", "320000.00", "12750.50", "89900.00", "1200000.00",
    "64000.00", "230000.00", "7800.00",
)

# --- intents -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatsAppStep:
    """One customer message and the bot's answer; `media` names an attachment the customer sends."""

    customer: str
    bot: str
    media: str | None = None


@dataclass(frozen=True)
class IntentContent:
    key: str
    label: str
    queue: str
    call_weight: float
    whatsapp_weight: float
    # Voice: the customer's first sentence, then (agent, customer) exchanges in order, then the
    # agent's answer when the agent virtual resolves the call.
    call_openings: tuple[str, ...]
    call_steps: tuple[tuple[str, str], ...]
    call_resolutions: tuple[str, ...]
    # Summary: "{El cliente} <topic>. <resolved>"
    summary_topics: tuple[str, ...]
    summary_resolved: tuple[str, ...]
    # WhatsApp: the customer's first message, the bot's first answer, then steps in order.
    whatsapp_openings: tuple[str, ...]
    whatsapp_first_replies: tuple[str, ...]
    whatsapp_steps: tuple[WhatsAppStep, ...]
    # What a human agent writes to settle it; a line with {ticket} opens a claim.
    whatsapp_agent_resolutions: tuple[str, ...]
    # Outbound calls (the bank calls the customer) for this intent, if any: agent's opening and
    # the customer's answer.
    outbound_openings: tuple[tuple[str, str], ...] = field(default=())


INTENTS: tuple[IntentContent, ...] = (
    IntentContent(
        key="consulta_saldo",
        label="Consulta de saldo",
        queue="cuentas",
        call_weight=14,
        whatsapp_weight=16,
        call_openings=(
            "Hola, quería saber cuánto tengo disponible en la cuenta.",
            "Buenas tardes, necesito consultar el saldo de mi caja de ahorro.",
            "Hola, ¿me puede decir si ya me acreditaron el sueldo?",
            "Buen día, quiero saber el saldo de la cuenta en pesos.",
        ),
        call_steps=(
            (
                "¿La consulta es por la caja de ahorro en pesos o por la cuenta en dólares?",
                "En pesos, por favor.",
            ),
            (
                "Perfecto. Aguarde un momento mientras consulto sus cuentas.",
                "Sí, espero.",
            ),
        ),
        call_resolutions=(
            "Su saldo disponible en la caja de ahorro en pesos es de {saldo}. El último movimiento "
            "es una acreditación de haberes del {fecha}.",
            "En la caja de ahorro en pesos tiene disponible {saldo}. No hay movimientos pendientes "
            "de acreditación.",
        ),
        summary_topics=(
            "consultó el saldo disponible de su caja de ahorro en pesos",
            "preguntó si se había acreditado su sueldo y cuál era su saldo",
        ),
        summary_resolved=(
            "Se validó su identidad y el agente virtual informó el saldo y el último movimiento.",
            "Se informó el saldo disponible; la consulta quedó resuelta.",
        ),
        whatsapp_openings=(
            "Hola! quería saber mi saldo",
            "Buenas, cómo consulto el saldo de mi cuenta?",
            "Hola, ya me depositaron el sueldo?",
        ),
        whatsapp_first_replies=(
            "¡Hola {nombre}! 👋 Soy el asistente virtual de {banco}. Para mostrarte el saldo "
            "necesito validar tu identidad: te enviamos un código por SMS. Ingresalo en la app "
            "cuando te lo pida.",
            "¡Hola {nombre}! Podés ver tu saldo en la app, en Inicio > Cuentas. Si querés, te lo "
            "informo por acá después de validar tu identidad.",
        ),
        whatsapp_steps=(
            WhatsAppStep(
                "Listo, ya lo validé",
                "¡Gracias! Tu saldo disponible en la caja de ahorro en pesos es de {saldo}.",
            ),
            WhatsAppStep(
                "Y el sueldo ya entró?",
                "Sí, el {fecha} se acreditaron tus haberes. No tenés movimientos pendientes.",
            ),
        ),
        whatsapp_agent_resolutions=(
            "Revisé tu cuenta: el saldo disponible es de {saldo} y la acreditación del {fecha} ya "
            "está impactada. ¿Te puedo ayudar con algo más?",
        ),
    ),
    IntentContent(
        key="bloqueo_tarjeta",
        label="Bloqueo de tarjeta",
        queue="tarjetas",
        call_weight=13,
        whatsapp_weight=11,
        call_openings=(
            "Hola, perdí la billetera y necesito bloquear la tarjeta de débito.",
            "Buenas noches, me robaron la tarjeta de crédito, quiero darla de baja ya.",
            "Hola, no encuentro mi tarjeta y quiero bloquearla por las dudas.",
        ),
        call_steps=(
            (
                "Lamento lo ocurrido. ¿Me confirma si es la tarjeta terminada en {ult4}?",
                "Sí, esa es.",
            ),
            (
                "¿Reconoce los últimos consumos, el más reciente en {comercio}?",
                "Sí, ese lo hice yo el fin de semana.",
            ),
            (
                "Bien. Voy a bloquear la tarjeta en forma definitiva. ¿Desea que le enviemos una "
                "reposición al domicilio registrado?",
                "Sí, por favor.",
            ),
        ),
        call_resolutions=(
            "Listo, la tarjeta terminada en {ult4} quedó bloqueada. La reposición llega a su "
            "domicilio en un plazo de 5 a 7 días hábiles.",
            "La tarjeta ya está bloqueada y no admite nuevos consumos. Pedimos una nueva tarjeta "
            "que le llegará en los próximos días hábiles.",
        ),
        summary_topics=(
            "solicitó el bloqueo de su tarjeta de débito por extravío",
            "denunció el robo de su tarjeta de crédito y pidió la baja",
            "pidió bloquear preventivamente una tarjeta que no encontraba",
        ),
        summary_resolved=(
            "Se bloqueó la tarjeta terminada en {ult4} y se pidió la reposición al domicilio.",
            "Se confirmó el bloqueo definitivo y se gestionó una tarjeta nueva.",
        ),
        whatsapp_openings=(
            "Hola, perdí la tarjeta de débito!! como la bloqueo?",
            "Me robaron la billetera, necesito bloquear las tarjetas urgente",
            "Hola, quiero pausar mi tarjeta que no la encuentro",
        ),
        whatsapp_first_replies=(
            "Hola {nombre}, lamentamos lo ocurrido. Podés pausar o bloquear tu tarjeta desde la "
            "app, en Tarjetas > Bloquear. ¿Querés que la bloqueemos desde acá?",
            "¡Hola {nombre}! Para tu seguridad podemos bloquear la tarjeta ahora mismo. ¿Es la "
            "terminada en {ult4}?",
        ),
        whatsapp_steps=(
            WhatsAppStep(
                "Sí, esa",
                "Listo ✅ La tarjeta terminada en {ult4} quedó bloqueada. ¿Querés pedir una "
                "reposición?",
            ),
            WhatsAppStep(
                "Sí, mandámela a casa",
                "Perfecto, la nueva tarjeta llega a tu domicilio en 5 a 7 días hábiles.",
            ),
        ),
        whatsapp_agent_resolutions=(
            "Ya bloqueé la tarjeta terminada en {ult4} y pedí la reposición. Te llega en 5 a 7 "
            "días hábiles al domicilio registrado.",
            "La tarjeta quedó bloqueada. Como hubo un robo, registramos la denuncia con el número "
            "{ticket}; guardalo por cualquier consulta.",
        ),
        outbound_openings=(),
    ),
    IntentContent(
        key="reclamo_cargo",
        label="Reclamo por cargo",
        queue="tarjetas",
        call_weight=12,
        whatsapp_weight=10,
        call_openings=(
            "Hola, en el resumen me aparece un cargo que no reconozco.",
            "Buenas, me cobraron dos veces una compra con la tarjeta.",
            "Hola, quiero reclamar un débito de {comercio} que yo no hice.",
        ),
        call_steps=(
            (
                "Entiendo. ¿Me indica el comercio y el importe del consumo que no reconoce?",
                "Es de {comercio}, por {monto}.",
            ),
            (
                "Gracias. ¿La tarjeta sigue en su poder?",
                "Sí, la tengo acá conmigo.",
            ),
            (
                "Aguarde un momento mientras reviso los movimientos.",
                "Dale.",
            ),
        ),
        call_resolutions=(
            "Veo que el consumo figura duplicado. Ya pedí la reversión del segundo cargo; se va a "
            "ver reflejado en su próximo resumen.",
            "El cargo corresponde a una suscripción mensual de {comercio}. Le envié por correo el "
            "detalle para que pueda darla de baja desde el comercio.",
        ),
        summary_topics=(
            "reclamó un cargo que no reconocía en el resumen de su tarjeta",
            "informó un consumo cobrado dos veces en su tarjeta de crédito",
            "desconoció un débito de {comercio}",
        ),
        summary_resolved=(
            "Se identificó el consumo duplicado y se solicitó la reversión del cargo.",
            "Se explicó que el cargo correspondía a una suscripción y se envió el detalle.",
        ),
        whatsapp_openings=(
            "Hola, tengo un cargo en la tarjeta que no reconozco",
            "Buenas tardes, me cobraron dos veces lo mismo",
            "Hola! me aparece un consumo de {comercio} que no hice",
        ),
        whatsapp_first_replies=(
            "Hola {nombre}, te ayudo con eso. ¿Me contás el comercio, la fecha y el importe del "
            "consumo?",
            "¡Hola {nombre}! Para revisar el cargo, enviame por favor una captura del movimiento.",
        ),
        whatsapp_steps=(
            WhatsAppStep(
                "Te paso la captura",
                "Gracias, ya la recibí. Estoy revisando el movimiento. 🔎",
                media="captura.jpg",
            ),
            WhatsAppStep(
                "Es de {comercio} por {monto}",
                "Veo el consumo. Para iniciar el desconocimiento necesito derivarte con un asesor.",
            ),
        ),
        whatsapp_agent_resolutions=(
            "Hola {nombre}, ya inicié el desconocimiento del consumo de {comercio}. El número de "
            "reclamo es {ticket} y tenés respuesta en hasta 10 días hábiles.",
            "Revisé el movimiento: el cargo estaba duplicado y ya pedí la reversión. Lo vas a ver "
            "en tu próximo resumen.",
        ),
    ),
    IntentContent(
        key="prestamo_personal",
        label="Préstamo personal",
        queue="prestamos",
        call_weight=10,
        whatsapp_weight=11,
        call_openings=(
            "Hola, quería consultar por un préstamo personal.",
            "Buenas, ¿cuánto me prestan y a qué tasa?",
            "Hola, en la app me aparece un préstamo preaprobado y quiero más información.",
        ),
        call_steps=(
            (
                "Con gusto. ¿Qué monto necesita y en cuántas cuotas lo quiere devolver?",
                "Alrededor de {monto}, en doce cuotas.",
            ),
            (
                "Tiene un préstamo preaprobado por ese monto, con cuota fija en pesos. ¿Quiere que "
                "le cuente las condiciones?",
                "Sí, dígame cuánto me quedaría la cuota.",
            ),
        ),
        call_resolutions=(
            "La cuota mensual le quedaría en {saldo}, con débito automático en su caja de ahorro. "
            "Puede confirmarlo desde la app en Préstamos > Solicitar y se acredita en el momento.",
            "Le envié la simulación por correo electrónico. Si la confirma hoy en la app, el "
            "dinero se acredita en el acto.",
        ),
        summary_topics=(
            "consultó las condiciones de un préstamo personal",
            "pidió información sobre un préstamo preaprobado que vio en la app",
        ),
        summary_resolved=(
            "Se informó el monto preaprobado, la cuota estimada y cómo solicitarlo desde la app.",
            "Se envió la simulación del préstamo por correo electrónico.",
        ),
        whatsapp_openings=(
            "Hola, quiero sacar un préstamo",
            "Buenas! cuánto me pueden prestar?",
            "Hola, me llegó una oferta de préstamo, es real?",
        ),
        whatsapp_first_replies=(
            "¡Hola {nombre}! Tenés un préstamo personal preaprobado de hasta {monto}. ¿Querés "
            "que te muestre las cuotas?",
            "¡Hola {nombre}! Sí, la oferta es de {banco} y la podés ver en la app, en Préstamos. "
            "Nunca te vamos a pedir claves ni códigos por este medio. 🔒",
        ),
        whatsapp_steps=(
            WhatsAppStep(
                "Sí, en 12 cuotas",
                "En 12 cuotas la cuota fija quedaría en {saldo}. Podés confirmarlo desde la app y "
                "se acredita en el momento.",
            ),
            WhatsAppStep(
                "Y si lo quiero en 24?",
                "En 24 cuotas la cuota baja, pero el costo financiero total es mayor. Te paso con "
                "un asesor para que lo vean juntos.",
            ),
        ),
        whatsapp_agent_resolutions=(
            "Hola {nombre}, soy del equipo de Préstamos. Te armé la simulación en 24 cuotas y te "
            "la dejé en la app para que la confirmes cuando quieras.",
        ),
        outbound_openings=(
            (
                "Hola, ¿hablo con {nombre}? Le llamamos de {banco} porque tiene un préstamo "
                "personal preaprobado. ¿Tiene un minuto?",
                "Sí, dígame.",
            ),
        ),
    ),
    IntentContent(
        key="cambio_clave",
        label="Cambio de clave",
        queue="cuentas",
        call_weight=12,
        whatsapp_weight=12,
        call_openings=(
            "Hola, me bloqueé el usuario de home banking y no puedo entrar.",
            "Buenas, olvidé la clave de la app y quiero cambiarla.",
            "Hola, necesito blanquear el PIN de la tarjeta de débito.",
        ),
        call_steps=(
            (
                "Por seguridad le vamos a enviar un código por SMS al celular registrado. "
                "Ingréselo en la app cuando se lo pida.",
                "Ya me llegó, lo estoy poniendo.",
            ),
            (
                "Perfecto, ya figura validado. Ahora la app le va a pedir una clave nueva de "
                "ocho caracteres.",
                "Listo, ya la cambié.",
            ),
        ),
        call_resolutions=(
            "Excelente, su usuario quedó desbloqueado y la clave nueva ya está activa.",
            "Listo, el blanqueo quedó hecho. Ya puede ingresar con la clave nueva.",
        ),
        summary_topics=(
            "no podía ingresar a home banking por usuario bloqueado",
            "solicitó restablecer la clave de la app",
            "pidió el blanqueo del PIN de su tarjeta de débito",
        ),
        summary_resolved=(
            "Se validó su identidad con un código por SMS y se restableció la clave.",
            "Se desbloqueó el usuario y el cliente generó una clave nueva desde la app.",
        ),
        whatsapp_openings=(
            "Hola, se me bloqueó el usuario",
            "Olvidé mi clave de home banking, qué hago?",
            "Hola, no puedo entrar a la app, me dice clave incorrecta",
        ),
        whatsapp_first_replies=(
            "¡Hola {nombre}! Podés generar una clave nueva desde la app: tocá \"Olvidé mi clave\" "
            "y seguí los pasos. Te vamos a enviar un código por SMS para validar tu identidad.",
            "Hola {nombre}, te ayudo. Por seguridad nunca te vamos a pedir tu clave por acá. "
            "¿Ya probaste la opción \"Olvidé mi clave\" en la app?",
        ),
        whatsapp_steps=(
            WhatsAppStep(
                "Sí, pero no me llega el SMS",
                "Revisá que tu celular tenga señal y esperá un minuto. Si sigue sin llegar, "
                "podés pedir otro código desde la misma pantalla.",
            ),
            WhatsAppStep(
                "Ahora sí llegó, ya la cambié",
                "¡Genial! Ya podés ingresar con tu clave nueva. 🔐",
            ),
        ),
        whatsapp_agent_resolutions=(
            "Hola {nombre}, ya desbloqueé tu usuario. Probá de nuevo con \"Olvidé mi clave\" y "
            "avisame si te llega el código.",
        ),
    ),
    IntentContent(
        key="activacion_tarjeta",
        label="Activación de tarjeta",
        queue="tarjetas",
        call_weight=10,
        whatsapp_weight=10,
        call_openings=(
            "Hola, me llegó la tarjeta nueva y quiero activarla.",
            "Buenas, recibí la tarjeta de crédito, ¿cómo la habilito?",
        ),
        call_steps=(
            (
                "¡Qué bien! ¿Me confirma los últimos cuatro números de la tarjeta que recibió?",
                "Sí, termina en {ult4}.",
            ),
            (
                "Gracias. ¿La tarjeta anterior la tiene con usted?",
                "Sí, la voy a cortar.",
            ),
        ),
        call_resolutions=(
            "La tarjeta terminada en {ult4} ya está activa. Recuerde destruir la anterior.",
            "Listo, la tarjeta quedó habilitada para compras en el país y en el exterior.",
        ),
        summary_topics=(
            "solicitó activar la tarjeta nueva que recibió en su domicilio",
            "pidió habilitar su nueva tarjeta de crédito",
        ),
        summary_resolved=(
            "Se activó la tarjeta terminada en {ult4}.",
            "Se habilitó la tarjeta y se recordó destruir el plástico anterior.",
        ),
        whatsapp_openings=(
            "Hola, me llegó la tarjeta nueva",
            "Cómo activo la tarjeta de crédito?",
            "Buenas, quiero activar la tarjeta que me llegó hoy",
        ),
        whatsapp_first_replies=(
            "¡Hola {nombre}! Podés activarla desde la app en Tarjetas > Activar tarjeta. ¿Es la "
            "terminada en {ult4}?",
            "¡Hola {nombre}! Te acabamos de enviar un SMS con los pasos para activarla. 💳",
        ),
        whatsapp_steps=(
            WhatsAppStep(
                "Sí, esa",
                "Perfecto. Cuando la actives, la anterior deja de funcionar. ¿Necesitás ayuda con "
                "algo más?",
            ),
            WhatsAppStep(
                "Ya está, la activé",
                "¡Excelente! Tu tarjeta ya está lista para usar. ✅",
            ),
        ),
        whatsapp_agent_resolutions=(
            "Hola {nombre}, ya activé tu tarjeta terminada en {ult4}. Podés usarla desde ahora.",
        ),
    ),
    IntentContent(
        key="consulta_inversiones",
        label="Consulta de inversiones",
        queue="general",
        call_weight=6,
        whatsapp_weight=7,
        call_openings=(
            "Hola, quería saber la tasa del plazo fijo.",
            "Buenas, tengo un plazo fijo que vence hoy y quiero renovarlo.",
            "Hola, quisiera información sobre los fondos comunes de inversión.",
        ),
        call_steps=(
            (
                "Con gusto. ¿El plazo fijo sería a treinta días y en pesos?",
                "Sí, a treinta días.",
            ),
            (
                "¿Desea renovar también los intereses o solo el capital?",
                "Todo, capital e intereses.",
            ),
        ),
        call_resolutions=(
            "La tasa nominal anual vigente para plazo fijo a treinta días la puede ver en la app, "
            "en Inversiones. Le dejé configurada la renovación automática.",
            "Le envié por correo el detalle de los fondos disponibles según su perfil de inversor.",
        ),
        summary_topics=(
            "consultó la tasa vigente de plazo fijo",
            "pidió renovar un plazo fijo que vencía en el día",
            "pidió información sobre fondos comunes de inversión",
        ),
        summary_resolved=(
            "Se informaron las condiciones vigentes y se configuró la renovación automática.",
            "Se envió información de los fondos acordes a su perfil de inversor.",
        ),
        whatsapp_openings=(
            "Hola, a cuánto está el plazo fijo?",
            "Quiero invertir en un fondo, qué opciones hay?",
        ),
        whatsapp_first_replies=(
            "¡Hola {nombre}! Podés ver la tasa vigente y simular tu plazo fijo en la app, en "
            "Inversiones > Plazo fijo. 📈",
            "¡Hola {nombre}! Tenemos fondos de liquidez inmediata y de renta fija. ¿Ya completaste "
            "tu perfil de inversor?",
        ),
        whatsapp_steps=(
            WhatsAppStep(
                "No, cómo lo hago?",
                "Lo completás en la app, en Inversiones > Perfil del inversor. Son cinco preguntas.",
            ),
            WhatsAppStep(
                "Listo, ya lo hice",
                "¡Genial! Ahora ya podés suscribir cualquiera de los fondos disponibles.",
            ),
        ),
        whatsapp_agent_resolutions=(
            "Hola {nombre}, te comparto las opciones de acuerdo a tu perfil. Cualquier duda "
            "escribime por acá.",
        ),
    ),
    IntentContent(
        key="denuncia_fraude",
        label="Denuncia de fraude",
        queue="fraude",
        call_weight=8,
        whatsapp_weight=8,
        call_openings=(
            "Hola, me llamaron diciendo que eran del banco y me pidieron un código. Creo que me "
            "estafaron.",
            "Buenas, me entró un mensaje raro con un link del banco y le di clic.",
            "Hola, me aparecen transferencias que yo no hice.",
        ),
        call_steps=(
            (
                "Hizo bien en llamarnos. Le recuerdo que {banco} nunca le pide claves ni códigos. "
                "¿Compartió algún código o clave?",
                "Sí, le pasé un código que me llegó por SMS.",
            ),
            (
                "Entiendo. Por seguridad voy a bloquear preventivamente el acceso a home banking y "
                "sus tarjetas.",
                "Sí, por favor, hágalo.",
            ),
            (
                "Ya quedó bloqueado. ¿Reconoce alguna transferencia de hoy?",
                "No, ninguna.",
            ),
        ),
        call_resolutions=(
            "Los accesos quedaron bloqueados y no se registran movimientos nuevos. Puede "
            "generar una clave nueva desde la app cuando quiera.",
        ),
        summary_topics=(
            "reportó un posible fraude telefónico en el que compartió un código",
            "informó que ingresó a un enlace sospechoso recibido por mensaje",
            "desconoció transferencias realizadas desde su cuenta",
        ),
        summary_resolved=(
            "Se bloquearon preventivamente los accesos y las tarjetas; no hubo movimientos nuevos.",
        ),
        whatsapp_openings=(
            "Hola, me llegó un mensaje diciendo que mi cuenta fue suspendida, es de ustedes?",
            "Me escribieron de un número del banco pidiendo el código que me llegó",
            "Creo que me hackearon la cuenta",
        ),
        whatsapp_first_replies=(
            "Hola {nombre}. ⚠️ {banco} nunca te pide claves, códigos ni datos de tarjetas por "
            "mensaje o llamada. No compartas nada y no ingreses a enlaces que no sean de nuestra "
            "app.",
            "Hola {nombre}, gracias por avisarnos. ¿Compartiste algún código o clave?",
        ),
        whatsapp_steps=(
            WhatsAppStep(
                "Te mando captura del mensaje",
                "Gracias. Es un intento de fraude: ese número no es del banco. Ya lo reportamos.",
                media="captura.jpg",
            ),
            WhatsAppStep(
                "Sí, les pasé un código 😟",
                "Tranquilo/a, te derivo ya mismo con el equipo de Prevención de Fraude.",
            ),
        ),
        whatsapp_agent_resolutions=(
            "Hola {nombre}, soy del equipo de Prevención de Fraude. Ya bloqueé tus accesos y "
            "tarjetas de forma preventiva y registramos el caso {ticket}.",
            "Revisé tu cuenta y no hay movimientos nuevos. Bloqueamos los accesos por las dudas; "
            "podés generar una clave nueva desde la app.",
        ),
        outbound_openings=(
            (
                "Hola, ¿hablo con {nombre}? Le llamamos del área de Prevención de Fraude de {banco} "
                "por un consumo en {comercio} de {monto}. ¿Lo reconoce?",
                "No, no lo reconozco.",
            ),
            (
                "Buenas tardes, ¿{nombre}? Le hablamos de {banco} para verificar una compra con su "
                "tarjeta terminada en {ult4}.",
                "Sí, soy yo, dígame.",
            ),
        ),
    ),
    IntentContent(
        key="consulta_transferencia",
        label="Consulta de transferencia",
        queue="cuentas",
        call_weight=15,
        whatsapp_weight=15,
        call_openings=(
            "Hola, hice una transferencia ayer y todavía no le llegó a la otra persona.",
            "Buenas, quiero saber cuál es el límite para transferir.",
            "Hola, me tenían que transferir y no me aparece la plata.",
        ),
        call_steps=(
            (
                "¿Me indica el importe y la fecha de la transferencia?",
                "Fue de {monto}, el {fecha}.",
            ),
            (
                "Aguarde un momento mientras la busco.",
                "Sí, claro.",
            ),
        ),
        call_resolutions=(
            "La transferencia figura acreditada en destino desde el {fecha}. El comprobante lo "
            "puede descargar desde la app, en Movimientos.",
            "Su límite diario para transferencias a terceros es de {saldo}. Puede aumentarlo desde "
            "la app con un código de verificación.",
        ),
        summary_topics=(
            "consultó por una transferencia que no había llegado a destino",
            "preguntó por el límite diario de transferencias",
            "consultó por una transferencia que esperaba recibir",
        ),
        summary_resolved=(
            "Se confirmó que la transferencia estaba acreditada y cómo descargar el comprobante.",
            "Se informó el límite vigente y cómo ampliarlo desde la app.",
        ),
        whatsapp_openings=(
            "Hola, hice una transferencia y no llegó",
            "Buenas, cómo aumento el límite para transferir?",
            "Hola! me pasás el CBU de mi cuenta?",
        ),
        whatsapp_first_replies=(
            "¡Hola {nombre}! Las transferencias inmediatas se acreditan en el momento. ¿Me "
            "pasás el comprobante así la reviso?",
            "¡Hola {nombre}! Podés ver tu CBU y alias en la app, en Cuentas > Datos de la cuenta. 🏦",
        ),
        whatsapp_steps=(
            WhatsAppStep(
                "Acá está el comprobante",
                "Gracias. La transferencia figura acreditada en destino. Puede demorar en verse en "
                "la otra entidad.",
                media="comprobante.jpg",
            ),
            WhatsAppStep(
                "Ok, y el límite cómo lo subo?",
                "Desde la app, en Transferencias > Límites. Te vamos a pedir un código por SMS.",
            ),
        ),
        whatsapp_agent_resolutions=(
            "Hola {nombre}, revisé la transferencia del {fecha}: está acreditada en destino. Si la "
            "otra persona no la ve, que consulte con su banco.",
        ),
    ),
)

INTENTS_BY_KEY = {intent.key: intent for intent in INTENTS}

# --- voice calls -------------------------------------------------------------------------------

CALL_GREETINGS = (
    "Hola, gracias por comunicarse con {banco}. Soy el asistente virtual. ¿En qué lo puedo ayudar?",
    "Bienvenido a {banco}. Le habla el asistente virtual. ¿En qué puedo ayudarlo hoy?",
    "Hola, {banco}, buenos días. Soy su asistente virtual. Cuénteme, ¿qué necesita?",
)

CALL_IDENTITY_STEPS = (
    (
        "Con gusto lo ayudo. Para continuar necesito validar su identidad. ¿Me indica los últimos "
        "tres números de su DNI?",
        "Sí, {dni3}.",
    ),
    (
        "Antes de seguir, ¿me confirma su fecha de nacimiento?",
        "Sí, claro, se la digo.",
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
    "Fue un gusto ayudarlo. Hasta luego.",
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
    "Registré su reclamo con el número {ticket}. Va a recibir una respuesta en un plazo de hasta "
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

WHATSAPP_HANDOFF_REQUESTS = (
    "Quiero hablar con una persona",
    "Me pasás con un asesor?",
    "Necesito que me atienda alguien por favor",
)

WHATSAPP_HANDOFF_REPLIES = (
    "Te derivo con un asesor del equipo de {cola}. En breve te responde. ⏳",
    "¡Claro! Un asesor de {cola} va a continuar la conversación en unos minutos.",
)

WHATSAPP_AGENT_INTROS = (
    "Hola {nombre}, soy {agente} del equipo de {cola}. Ya leí tu consulta, dame un minuto que lo "
    "reviso.",
    "¡Hola {nombre}! Te habla {agente}, de {cola}. ¿Me confirmás tu DNI terminado en {dni3}?",
)

WHATSAPP_CUSTOMER_TO_AGENT = (
    "Sí, gracias",
    "Sí, soy yo",
    "Dale, espero",
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

MEDIA_CAPTIONS = {
    "captura.jpg": "image/jpeg",
    "comprobante.jpg": "image/jpeg",
}

# --- SMS ---------------------------------------------------------------------------------------

OTP_MASK = "******"

OTP_TEMPLATES = {
    "LOGIN_2FA": (
        "Tu código de verificación de {banco} es {codigo}. Vence en {minutos} minutos. No lo "
        "compartas con nadie.",
    ),
    "TX_CONFIRMATION": (
        "{banco}: para confirmar la transferencia de {moneda} {importe} a {destinatario} ingresá "
        "el código {codigo}. Vence en {minutos} minutos. No lo compartas con nadie.",
    ),
    "PASSWORD_RESET": (
        "{banco}: usá el código {codigo} para restablecer tu clave. Vence en {minutos} minutos. "
        "Si no lo pediste, llamanos al {ayuda}.",
    ),
    "IDENTITY_VERIFICATION": (
        "{banco}: tu código para validar tu identidad es {codigo}. Vence en {minutos} minutos. "
        "Nunca te lo vamos a pedir por teléfono.",
    ),
}

SMS_TEXTS = (
    "{banco}: el resumen de tu tarjeta ya está disponible en la app. Vence el {fecha}.",
    "{banco}: recibimos tu reclamo {ticket}. Te vamos a responder en hasta 10 días hábiles.",
    "{banco}: tu préstamo personal fue acreditado en tu caja de ahorro.",
    "{banco}: tu tarjeta nueva está en camino. Llega en 5 a 7 días hábiles.",
    "{banco}: bloqueamos preventivamente tu tarjeta terminada en {ult4}. Llamanos al {ayuda}.",
    "{banco}: hola {nombre}, te escribimos por tu consulta. Respondé a este número o llamanos "
    "al {ayuda}.",
    "{banco}: tu plazo fijo vence el {fecha}. Podés renovarlo desde la app.",
)

SMS_VERIFICATION_LINK = (
    "{banco}: para validar tu identidad ingresá a {url} . El enlace vence en 24 horas.",
    "{banco}: completá la verificación de tu identidad en {url} (válido por 24 horas).",
)

SMS_ONBOARDING_LINK = (
    "¡Hola {nombre}! Bienvenido/a a {banco}. Completá el alta de tu cuenta en {url}",
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
