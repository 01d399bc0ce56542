"""Rioplatense chat and call snippets, written by hand, for bench/redaction_corpus.py.

Markers: {card:STYLE}, {cvv:STYLE}, {dni:STYLE}, {cuit:STYLE}, {cbu:STYLE}, {cvu}, {alias},
{email} / {email:spoken}, {name} / {name:first|last|lower} are labelled; {amount},
{amount_spoken}, {phone}, {phone_spoken}, {date}, {order}, {order8}, {long_operation}, {last4},
{otp}, {small}, {agent} are filled but are not sensitive (the hard negatives).
"""

from __future__ import annotations

# (channel, template): "chat" is typed (WhatsApp, web chat), "call" is a speech-to-text transcript.
POSITIVE: list[tuple[str, str]] = [
    # --- cards, typed ------------------------------------------------------------------------
    ("chat", "hola buenas, me cobraron dos veces la cuota. la tarjeta es {card:spaced}"),
    ("chat", "Che, no me deja pagar con la {card:digits}, me dice rechazada 😡"),
    ("chat", "te paso el nro de la tarjeta: {card:dashed} vence {date}"),
    ("chat", "Buenas tardes. Quiero dar de baja la tarjeta {card:spaced}, la perdí el finde."),
    ("chat", "la tarjeta es esta {card:digits} y el cvv {cvv:digits}"),
    ("chat", "{card:spaced}\ncodigo de seguridad {cvv:digits}\nvence {date}"),
    ("chat", "me aparece un consumo que no hice de {amount} en la {card:dashed}, q onda??"),
    ("chat", "Hola, soy {name}. Necesito desconocer un consumo de la tarjeta {card:spaced}"),
    ("chat", "x favor bloqueen la {card:digits} q me la robaron en el bondi"),
    ("chat", "dale, anotá: {card:spaced}. Los de atrás son {cvv:digits}"),
    ("chat", "tarjeta {card:digits} cod seguridad {cvv:digits} porfa carguen el pago"),
    (
        "chat",
        "Buen día! el número es {card:spaced} (la visa) y el código de seguridad {cvv:spaced}",
    ),
    ("chat", "ya te mandé la foto pero por las dudas: {card:dashed}"),
    ("chat", "mi tarjeta {card:spaced} la que termina en {last4} no, la otra"),
    ("chat", "Hola! Me llegó el resumen con {amount} y yo pagué todo. Tarjeta {card:digits}."),
    ("chat", "quiero adherir al débito automático la {card:spaced}, la luz y el gas"),
    # --- cards, spoken -----------------------------------------------------------------------
    (
        "call",
        "Agente: ¿me dicta el número de la tarjeta?\nCliente: sí, es {card:spoken_digits}",
    ),
    (
        "call",
        "Cliente: bueno eh la tarjeta es la {card:spoken_pairs} y vence en {date}",
    ),
    (
        "call",
        "Agente: perfecto, dígame los dieciséis números\nCliente: dale {card:spoken_groups}",
    ),
    (
        "call",
        "Cliente: te paso el número {card:spoken_digits} y el de atrás es {cvv:spoken_digits}",
    ),
    (
        "call",
        "Agente: ¿el número de tarjeta?\nCliente: {card:spoken_pairs}\n"
        "Agente: ¿y el código de seguridad?\nCliente: {cvv:spoken_number}",
    ),
    (
        "call",
        "Cliente: mirá yo tengo acá la tarjeta en la mano eh {card:spoken_digits} "
        "no sé si me escuchás bien",
    ),
    (
        "call",
        "Cliente: la tarjeta termina en {last4} pero te digo el número completo "
        "{card:spoken_groups}",
    ),
    (
        "call",
        "Agente: bien, ¿me confirma el número?\nCliente: {card:mixed}",
    ),
    (
        "call",
        "Cliente: sí sí es {card:spoken_pairs} y los tres números de atrás {cvv:spoken_digits}",
    ),
    (
        "call",
        "Cliente: eh bueno la tarjeta de crédito es {card:any} no me acuerdo la fecha",
    ),
    (
        "call",
        "Cliente: quería pagar el saldo de {amount_spoken} con la tarjeta {card:spoken_digits}",
    ),
    (
        "call",
        "Agente: le pido los números de la tarjeta de a cuatro\nCliente: {card:spoken_groups}",
    ),
    (
        "call",
        "Cliente: hola sí llamo porque me debitaron dos veces eh la tarjeta es {card:spoken_pairs}",
    ),
    (
        "call",
        "Cliente: el plástico nuevo no me llegó el viejo era {card:spoken_digits}",
    ),
    # --- security codes ----------------------------------------------------------------------
    ("chat", "el cvv es {cvv:digits}"),
    ("chat", "CVV: {cvv:digits}"),
    ("chat", "los 3 de atrás {cvv:digits}"),
    ("chat", "Código de seguridad: {cvv:digits}. ¿Necesitás algo más?"),
    ("chat", "los tres números de atrás son {cvv:digits} creo, está medio borrado"),
    ("chat", "y el código de atrás {cvv:digits}"),
    ("call", "Agente: ¿me dice el código de seguridad?\nCliente: sí, {cvv:spoken_digits}"),
    ("call", "Cliente: el código de seguridad es el {cvv:spoken_number}"),
    ("call", "Cliente: los de atrás son {cvv:spoken_digits}"),
    ("call", "Cliente: el cvc es {cvv:spoken_digits} eh no {cvv:spoken_digits} perdón"),
    ("call", "Cliente: el de atrás {cvv:any} y la fecha {date}"),
    ("chat", "cvc {cvv:digits} vto {date}"),
    # --- DNI ---------------------------------------------------------------------------------
    ("chat", "Hola, mi DNI es {dni:digits}"),
    ("chat", "dni {dni:digits}"),
    ("chat", "buenas! te paso mi documento {dni:dotted} para que me busquen"),
    ("chat", "{dni:dotted}"),
    ("chat", "Soy {name}, DNI {dni:dotted}. Quiero saber por qué me bloquearon la cuenta."),
    ("chat", "mi número de documento es {dni:digits} y el celu {phone}"),
    ("chat", "documento: {dni:digits}\nnombre: {name}"),
    ("chat", "D.N.I. {dni:dotted}"),
    ("chat", "el dni del titular es {dni:spaced}, es mi viejo"),
    ("chat", "Agente: ¿Me pasás tu DNI?\nCliente: {dni:digits}"),
    ("chat", "{dni:digits} es mi dni"),
    ("chat", "hola! necesito el turno, dni {dni:digits}, gracias!!"),
    ("call", "Agente: ¿me dice su número de documento?\nCliente: sí, {dni:spoken_number}"),
    ("call", "Cliente: mi documento es el {dni:spoken_groups}"),
    ("call", "Cliente: el DNI {dni:spoken_digits}"),
    (
        "call",
        "Agente: para validar su identidad necesito el DNI\nCliente: eh {dni:spoken_number}",
    ),
    ("call", "Cliente: soy {name} documento {dni:spoken_groups} llamaba por un reclamo"),
    ("call", "Cliente: mi dni es {dni:any} y el reclamo es el {order}"),
    ("call", "Agente: ¿DNI?\nCliente: {dni:spoken_number}"),
    # --- CUIL / CUIT -------------------------------------------------------------------------
    ("chat", "mi cuil es {cuit:dashed}"),
    ("chat", "CUIT {cuit:digits} para la factura porfa"),
    ("chat", "Te paso el CUIL: {cuit:dashed}. Trabajo en relación de dependencia."),
    ("chat", "{cuit:dashed}"),
    ("chat", "para el plazo fijo necesitan el cuil? es {cuit:digits}"),
    ("chat", "la empresa es CUIT {cuit:dashed}, razón social la tengo en el mail"),
    ("call", "Cliente: el cuil es {cuit:spoken_parts}"),
    ("call", "Cliente: mi cuit {cuit:spoken_digits}"),
    ("call", "Agente: ¿me confirma el CUIL?\nCliente: {cuit:spoken_parts}"),
    ("call", "Cliente: el número de cuil eh {cuit:any}"),
    # --- CBU / CVU / alias -------------------------------------------------------------------
    ("chat", "te paso mi CBU: {cbu:digits}"),
    ("chat", "cbu {cbu:digits} a nombre de {name}"),
    ("chat", "Hola, hice una transferencia al {cbu:digits} y no llegó"),
    ("chat", "la cuenta destino es {cbu:spaced}"),
    ("chat", "mi cvu de mercadopago es {cvu}"),
    ("chat", "CVU {cvu}, alias {alias}"),
    ("chat", "alias: {alias}"),
    ("chat", "el alias es {alias} fijate si te aparece"),
    ("chat", "pasame a este alias {alias} porfa, el otro lo di de baja"),
    ("chat", "mi alias {alias}\nCBU {cbu:digits}"),
    ("chat", "Transferí {amount} al alias {alias} y me rebotó"),
    ("chat", "necesito cambiar el alias, ahora es {alias} y quiero otro"),
    ("call", "Cliente: el cbu es {cbu:spoken_digits}"),
    ("call", "Cliente: mi alias es {alias} todo junto con puntos"),
    # --- e-mail ------------------------------------------------------------------------------
    ("chat", "mi mail es {email}"),
    ("chat", "mandenmé el resumen a {email} porfa"),
    ("chat", "Hola, no me llega el token al correo {email}. Ya revisé spam."),
    ("chat", "{email}"),
    ("chat", "cambié el mail, ahora es {email} (el otro lo cerré)"),
    ("call", "Cliente: el correo es {email:spoken}"),
    ("call", "Agente: ¿me deletrea el mail?\nCliente: sí {email:spoken}"),
    # --- the customer's own name -------------------------------------------------------------
    ("chat", "Hola, soy {name:first}. Quería consultar por el préstamo."),
    ("chat", "buenas, habla {name:lower}"),
    ("call", "Agente: buenas tardes, ¿con quién hablo?\nCliente: con {name}"),
    ("call", "Agente: ¿usted es la titular, señora {name:last}?\nCliente: sí, soy yo"),
    ("chat", "Agente: Hola {name:first}, soy {agent} del banco. ¿En qué te ayudo?"),
    # --- several at once ---------------------------------------------------------------------
    (
        "chat",
        "Soy {name}, dni {dni:digits}, cuil {cuit:dashed}. La tarjeta {card:spaced} "
        "me la rechazan en todos lados. Mi mail {email}",
    ),
    (
        "call",
        "Agente: ¿me dice su documento?\nCliente: {dni:spoken_number}\n"
        "Agente: gracias, ¿y la tarjeta?\nCliente: {card:spoken_digits}\n"
        "Agente: ¿el código de seguridad?\nCliente: {cvv:spoken_digits}",
    ),
    (
        "chat",
        "te dejo todo: {name}\nDNI {dni:dotted}\nCBU {cbu:digits}\nalias {alias}\nmail {email}",
    ),
    (
        "call",
        "Cliente: hola sí mi nombre es {name} eh mi dni {dni:spoken_groups} "
        "y quería saber el saldo de la tarjeta {card:spoken_pairs}",
    ),
    (
        "chat",
        "me pidieron por whatsapp la {card:spaced} y el código de seguridad {cvv:digits} "
        "y se los di 😭 era estafa no?",
    ),
]

# Snippets with nothing to redact (besides, sometimes, the customer's name: none is used here).
NEGATIVE: list[tuple[str, str]] = [
    ("chat", "hola, me cobraron {amount} de mantenimiento, ¿por qué?"),
    ("chat", "el saldo me da {amount} y debería ser {amount}"),
    ("chat", "Buen día, quería saber si puedo pagar el resumen del {date} en {small} cuotas"),
    ("chat", "mi celu es {phone}, llamame después de las 18"),
    ("chat", "el número de reclamo es {order8}"),
    ("chat", "tengo el reclamo {order} abierto hace {small} días y nadie me contesta"),
    ("chat", "la tarjeta que termina en {last4} no me anda"),
    ("chat", "la terminada en {last4} la quiero dar de baja"),
    ("chat", "me llegó el código {otp} pero no me deja entrar"),
    ("chat", "el código que me mandaron por sms es {otp}"),
    ("chat", "la transferencia número {long_operation} figura rechazada"),
    ("chat", "número de operación {long_operation}, del {date}"),
    ("chat", "pagué {amount} el {date}, comprobante {order8}"),
    ("chat", "Hola! cuánto sale el seguro del auto? tengo un gol 2014"),
    ("chat", "me dieron el turno para el {date} a las 10:30 en la sucursal {small}"),
    ("chat", "el préstamo era de {amount} en {small} cuotas de {amount}"),
    ("chat", "llamé al {phone} y no atiende nadie"),
    ("chat", "whatsapp del banco? el mío es {phone}"),
    ("chat", "el plazo fijo de {amount} vence el {date}"),
    ("chat", "el código de seguridad me lo pidieron por teléfono pero no lo di, ¿está bien?"),
    ("chat", "no sé cuál es mi dni de memoria jaja ahora lo busco"),
    ("chat", "Tengo el DNI vencido, ¿puedo hacer el trámite igual? El turno es el {date}"),
    ("chat", "mi alias lo cambié ayer, ¿tarda en actualizarse?"),
    ("chat", "el cbu no lo tengo a mano, te lo paso mañana"),
    ("chat", "el pedido {order8} no llegó, lo pagué con débito"),
    ("chat", "factura {order8} por {amount}"),
    ("chat", "dale, gracias. El número de gestión es {order}"),
    ("chat", "Cuando quise pagar {amount} me rebotó, después pagué {amount} y pasó"),
    ("chat", "la cuota {small} de {small} me vino con {amount} de interés"),
    ("chat", "en el resumen del {date} aparece {amount} y en el del {date} {amount}"),
    ("call", "Cliente: me cobraron {amount_spoken} y yo no compré nada"),
    ("call", "Cliente: mi teléfono es el {phone_spoken}"),
    ("call", "Cliente: pagué {amount_spoken} el lunes y todavía figura la deuda"),
    ("call", "Agente: el reclamo quedó registrado con el número {order8}"),
    ("call", "Cliente: la tarjeta termina en {last4} y la otra en {last4}"),
    ("call", "Cliente: el saldo es de {amount_spoken} más o menos"),
    ("call", "Agente: le va a llegar un código de {small} números por mensaje"),
    ("call", "Cliente: tengo {small} años y soy jubilado eh quería el préstamo"),
    ("call", "Agente: el número de la sucursal es {phone}"),
    ("call", "Cliente: no no el código de seguridad no lo tengo la tarjeta está en casa"),
    ("call", "Agente: nunca le vamos a pedir el código de seguridad por teléfono"),
    ("call", "Cliente: sí la cuota es de {amount_spoken} por mes durante doce meses"),
    ("call", "Cliente: eh me llamaron del {phone} diciendo que eran del banco"),
    ("call", "Agente: su turno es el {date} a las nueve y media"),
    ("call", "Cliente: el pedido es el {order8} lo hice el martes"),
    ("call", "Agente: son dieciséis números, los tiene a mano? tómese su tiempo"),
    ("call", "Cliente: el documento lo tengo en el auto, ahora no lo tengo"),
    ("call", "Cliente: pagué con transferencia el {date} número de operación {long_operation}"),
    ("chat", "Agente: Hola, soy {agent}. Para ayudarte, no compartas números de tarjeta por acá."),
    ("chat", "tengo {small} tarjetas, la visa y la master, las dos terminan en {last4}?? raro"),
]
