#!/usr/bin/env node
/**
 * qunbot end-to-end test peer -- never part of the product.
 *
 * A real Wechaty puppet-service gRPC server (`PuppetServer` from wechaty-puppet-service)
 * around a scripted `PuppetMock`, plus a small JSON control API on a second loopback port
 * through which tests build a world (account, rooms, members) and make things happen in it
 * (messages, joins, leaves, topic changes). Everything the connected client sends is
 * recorded and served back at `GET /sent`.
 *
 * Usage: node server.mjs [--grpc-port N] [--control-port N] [--token T] [--world FILE]
 *                        [--exit-on-stdin-eof]
 *   Ports default to $QUNBOT_E2E_GRPC_PORT / $QUNBOT_E2E_CONTROL_PORT, else 0 (pick a free one).
 *   The token defaults to $QUNBOT_E2E_TOKEN, else "insecure_qunbot_e2e". TLS is off.
 *   --world loads a GET /state snapshot before the gRPC port listens: a service coming back
 *   from a crash has its account at once, so a client that reconnects in the first
 *   millisecond is logged in (POST /state after the start would leave it waiting for good).
 *   Prints exactly one line `READY grpc=PORT control=PORT` on stdout once both listen.
 *
 * Control API (loopback, JSON in and out; errors are {"error": "..."} with 4xx):
 *   GET  /health                  {ready, clients, logged_in, started, account}
 *   GET  /sent                    every message the client sent, in order
 *   GET  /removals                every room-member removal the client asked for, in order:
 *                                 {room, member, at (ISO), ok}; a room with an `owner` other
 *                                 than the account refuses it (gRPC PERMISSION_DENIED), as
 *                                 WeChat does when the account is not the group's owner
 *   GET  /state                   {account, contacts, rooms} -- the world, without messages
 *   POST /state                   replace the world with a GET /state snapshot (no events)
 *   POST /login                   {id, name}              the account the client runs as
 *   POST /logout                  {reason?}               log the puppet out (re-login on next client start)
 *   POST /room                    {id, topic, members, owner?}   a room the account is in
 *   POST /say                     {room, from, text, mentions?, timestamp?}     -> {id}
 *   POST /say-private             {from, text, name?, timestamp?}               -> {id}
 *   POST /picture                 {room, from, base64, timestamp?}  a member posts a picture
 *                                 (the client fetches it with messageImage: a base64 file box)
 *   POST /join                    {room, invitees, inviter, timestamp?}
 *   POST /leave                   {room, members, remover?, timestamp?}
 *   POST /topic                   {room, topic, changer, timestamp?}
 *   POST /heartbeat               {data?}
 * Members/invitees are {"id", "name"} or bare ids. Event-emitting calls answer 409 when no
 * client is connected (the event would be lost, as with the real service); pass
 * "force": true to emit anyway. Texts are delivered verbatim; timestamps are milliseconds.
 * /sent entries: {id, type: "text"|"contact"|"url", conversation, text, mentions, at (ISO),
 * contact_id? | url?, title?}. Each sent message is also echoed back as a message event from
 * the account itself, as the real service does.
 */
import http from 'node:http'
import net from 'node:net'
import { readFile } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'

import { FileBox } from 'file-box' // wechaty-puppet's own dependency, at its pinned version
import * as PUPPET from 'wechaty-puppet'
import { PuppetMock } from 'wechaty-puppet-mock'
import { PuppetServer } from 'wechaty-puppet-service'

const HOST = '127.0.0.1'
const DEFAULT_TOKEN = 'insecure_qunbot_e2e'
const MAX_BODY_BYTES = 1024 * 1024

/** A control-API failure that maps onto an HTTP status. */
class HttpError extends Error {
  constructor (status, message) {
    super(message)
    this.status = status
  }
}

const bad = message => new HttpError(400, message)
const notFound = message => new HttpError(404, message)
const conflict = message => new HttpError(409, message)

// ---------------------------------------------------------------- options

function parsePort (value, name) {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name} must be a port number (0 = pick a free one), got ${value}`)
  }
  return port
}

function parseOptions (argv, env) {
  const options = {
    grpcPort: parsePort(env.QUNBOT_E2E_GRPC_PORT ?? 0, 'grpc port'),
    controlPort: parsePort(env.QUNBOT_E2E_CONTROL_PORT ?? 0, 'control port'),
    token: env.QUNBOT_E2E_TOKEN || DEFAULT_TOKEN,
    exitOnStdinEof: false,
    world: undefined,
  }
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`)
      return argv[++i]
    }
    switch (argv[i]) {
      case '--grpc-port': options.grpcPort = parsePort(value(), '--grpc-port'); break
      case '--control-port': options.controlPort = parsePort(value(), '--control-port'); break
      case '--token': options.token = value(); break
      case '--world': options.world = value(); break
      case '--exit-on-stdin-eof': options.exitOnStdinEof = true; break
      default: throw new Error(`unknown argument ${argv[i]}`)
    }
  }
  return options
}

/** grpc-js cannot report the port it picked through PuppetServer, so pick one first. */
function freePort () {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, HOST, () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

// ---------------------------------------------------------------- input helpers

const isNonEmptyString = v => typeof v === 'string' && v.length > 0

function requireString (body, key) {
  const value = body[key]
  if (!isNonEmptyString(value)) throw bad(`"${key}" must be a non-empty string`)
  return value
}

function optionalString (body, key) {
  const value = body[key]
  if (value === undefined || value === null) return undefined
  if (!isNonEmptyString(value)) throw bad(`"${key}" must be a non-empty string when given`)
  return value
}

function stringList (body, key, { required }) {
  const value = body[key]
  if (value === undefined && !required) return []
  if (!Array.isArray(value) || !value.every(isNonEmptyString)) {
    throw bad(`"${key}" must be a list of ids`)
  }
  return value
}

/** Members may be given as {"id", "name"} objects or bare ids (name = id). */
function personList (body, key) {
  const value = body[key]
  if (!Array.isArray(value)) throw bad(`"${key}" must be a list of {"id", "name"} or ids`)
  return value.map(item => {
    if (isNonEmptyString(item)) return { id: item, name: item }
    if (item && isNonEmptyString(item.id)) {
      return { id: item.id, name: isNonEmptyString(item.name) ? item.name : item.id }
    }
    throw bad(`"${key}" entries must be {"id", "name"} or ids, got ${JSON.stringify(item)}`)
  })
}

function timestampOf (body) {
  const value = body.timestamp
  if (value === undefined) return Date.now()
  if (typeof value !== 'number' || !Number.isFinite(value)) throw bad('"timestamp" must be a number (ms)')
  return value
}

// ---------------------------------------------------------------- the world

/**
 * What the peer knows: the account, contacts, rooms and messages. The mock's own data
 * (random contacts and rooms, room member lists that ignore joins and leaves) is not used:
 * every payload the gRPC server serves comes from here.
 */
class World {
  constructor () {
    this.reset()
  }

  reset () {
    this.account = null // {id, name}
    this.contacts = new Map() // id -> {id, name}
    this.rooms = new Map() // id -> {id, topic, owner, members: [id], inviters: Map(id -> inviter id)}
    this.messages = new Map() // id -> puppet MessagePayload (kept for the life of the process)
    this.extras = new Map() // message id -> contact id / url payload of a sent non-text message
    this.sent = []
    this.removals = []
    this.pictures = new Map() // message id -> base64 of a picture a member posted
  }

  remember (person) {
    const known = this.contacts.get(person.id)
    if (known) {
      if (person.name !== person.id) known.name = person.name
      return known
    }
    const contact = { id: person.id, name: person.name }
    this.contacts.set(contact.id, contact)
    return contact
  }

  contact (id) {
    const contact = this.contacts.get(id)
    if (!contact) throw notFound(`unknown contact ${id}`)
    return contact
  }

  room (id) {
    const room = this.rooms.get(id)
    if (!room) throw notFound(`unknown room ${id}`)
    return room
  }

  requireMember (room, id) {
    if (!room.members.includes(id)) throw bad(`${id} is not a member of ${room.id}`)
  }

  snapshot () {
    return {
      account: this.account,
      contacts: [...this.contacts.values()],
      rooms: [...this.rooms.values()].map(room => ({
        id: room.id,
        topic: room.topic,
        owner: room.owner || null,
        members: room.members.map(id => ({ id, name: this.contacts.get(id)?.name ?? id })),
      })),
    }
  }

  restore (state) {
    this.reset()
    if (state.account) {
      this.account = { id: requireString(state.account, 'id'), name: requireString(state.account, 'name') }
      this.remember(this.account)
    }
    for (const contact of personList({ contacts: state.contacts ?? [] }, 'contacts')) this.remember(contact)
    // Rooms come back exactly as they were: the account is not re-added where it had left.
    for (const room of state.rooms ?? []) this.addRoom(room, { withAccount: false })
  }

  /** A new room; the account is made a member unless `withAccount` is false. */
  addRoom (body, { withAccount = true } = {}) {
    const id = requireString(body, 'id')
    if (this.rooms.has(id)) throw conflict(`room ${id} exists already`)
    const members = personList(body, 'members').map(person => this.remember(person).id)
    if (withAccount && this.account && !members.includes(this.account.id)) members.unshift(this.account.id)
    const room = {
      id,
      topic: typeof body.topic === 'string' ? body.topic : '',
      owner: optionalString(body, 'owner') ?? '',
      members: [...new Set(members)],
      inviters: new Map(),
    }
    this.rooms.set(id, room)
    return room
  }
}

// ---------------------------------------------------------------- the puppet

const TYPE = PUPPET.types.Message

/**
 * PuppetMock driven by the World. Overrides what the mock gets wrong for our purposes:
 * it logs in again on every start (a puppet-service client always stops, then starts, the
 * puppet when it connects), keeps mentions on sent texts, returns message ids, echoes the
 * account's own messages back as message events (as the real service does), and serves
 * room member lists that follow joins and leaves.
 */
class ScriptedPuppet extends PuppetMock {
  constructor (world) {
    super()
    this.world = world
    this.started = false
  }

  /** Connected gRPC event streams: each registers exactly one puppet 'message' listener. */
  get clients () {
    return this.listenerCount('message')
  }

  async onStart () {
    await super.onStart()
    this.started = true
    await this.applyLogin()
  }

  async onStop () {
    this.started = false
    await super.onStop()
  }

  /** Log the configured account in, if the puppet runs and is not already logged in as it. */
  async applyLogin () {
    const account = this.world.account
    if (!account || !this.started) return
    if (this.isLoggedIn) {
      if (this.currentUserId === account.id) return
      await this.logout('account switched')
    }
    this.login(account.id)
    // Real puppets announce 'ready' once their data is synced, right after login.
    setImmediate(() => this.isLoggedIn && this.emit('ready', { data: 'ready' }))
  }

  /** Drop cached payloads so the next gRPC query sees the World's current state. */
  forget (kind, id) {
    this.cache[kind].delete(id)
    if (kind === 'room') this.cache.roomMember.delete(id)
  }

  // -- payloads

  async contactList () { return [...this.world.contacts.keys()] }

  async contactRawPayload (id) {
    const contact = this.world.contacts.get(id)
    if (!contact) throw new Error(`unknown contact ${id}`)
    return {
      id: contact.id,
      name: contact.name,
      alias: '',
      avatar: '',
      gender: PUPPET.types.ContactGender.Unknown,
      type: PUPPET.types.Contact.Individual,
      friend: true,
      phone: [],
    }
  }

  async roomList () { return [...this.world.rooms.keys()] }

  async roomRawPayload (id) {
    const room = this.world.rooms.get(id)
    if (!room) throw new Error(`unknown room ${id}`)
    return {
      id: room.id,
      topic: room.topic,
      avatar: '',
      ownerId: room.owner,
      adminIdList: [],
      memberIdList: [...room.members],
    }
  }

  async roomMemberList (roomId) {
    const room = this.world.rooms.get(roomId)
    if (!room) throw new Error(`unknown room ${roomId}`)
    return [...room.members]
  }

  async roomMemberRawPayload (roomId, contactId) {
    const room = this.world.rooms.get(roomId)
    if (!room) throw new Error(`unknown room ${roomId}`)
    if (!room.members.includes(contactId)) throw new Error(`${contactId} is not a member of ${roomId}`)
    return {
      id: contactId,
      name: this.world.contacts.get(contactId)?.name ?? contactId,
      avatar: '',
      roomAlias: '',
      inviterId: room.inviters.get(contactId) ?? '',
    }
  }

  async messageRawPayload (id) {
    const payload = this.world.messages.get(id)
    if (!payload) throw new Error(`unknown message ${id}`)
    return payload
  }

  async messageContact (id) { return this.world.extras.get(id) ?? '' }

  /** A picture a member posted with POST /picture, as the file box the service serves. */
  async messageImage (id) {
    const picture = this.world.pictures.get(id)
    if (!picture) throw new Error(`no picture ${id}`)
    return FileBox.fromBase64(picture, 'picture.png')
  }

  async messageUrl (id) {
    return this.world.extras.get(id) ?? { title: '', url: '' }
  }

  // -- incoming messages (from the scripted world)

  /** Store a message and emit its event; the client then fetches the payload by id. */
  deliver (payload) {
    this.world.messages.set(payload.id, payload)
    this.emit('message', { messageId: payload.id })
    return payload.id
  }

  // -- what the client does

  requireAccount () {
    if (!this.isLoggedIn) throw new Error('not logged in')
    return this.world.account
  }

  /** A send: record it, answer with an id, then echo it as a message event from ourselves. */
  recordSend (conversationId, entry, payloadExtra) {
    const account = this.requireAccount()
    const room = this.world.rooms.get(conversationId)
    const inRoom = room !== undefined
    if (!inRoom && !this.world.contacts.has(conversationId)) {
      throw new Error(`unknown conversation ${conversationId}`)
    }
    if (inRoom && !room.members.includes(account.id)) {
      throw new Error(`${account.id} is not a member of ${conversationId}`)
    }
    const id = `m_${randomUUID()}`
    const timestamp = Date.now()
    this.world.sent.push({
      id,
      conversation: conversationId,
      text: '',
      mentions: [],
      ...entry,
      at: new Date(timestamp).toISOString(),
    })
    const payload = {
      id,
      talkerId: account.id,
      timestamp,
      text: '',
      ...payloadExtra,
      ...(inRoom ? { roomId: conversationId } : { listenerId: conversationId }),
    }
    this.world.messages.set(id, payload)
    setImmediate(() => this.emit('message', { messageId: id }))
    return id
  }

  async messageSendText (conversationId, text, mentionIdList) {
    const mentions = [...(mentionIdList ?? [])]
    return this.recordSend(
      conversationId,
      { type: 'text', text, mentions },
      { type: TYPE.Text, text, mentionIdList: mentions },
    )
  }

  async messageSendContact (conversationId, contactId) {
    const id = this.recordSend(
      conversationId,
      { type: 'contact', contact_id: contactId },
      { type: TYPE.Contact },
    )
    this.world.extras.set(id, contactId)
    return id
  }

  async messageSendUrl (conversationId, urlLinkPayload) {
    const id = this.recordSend(
      conversationId,
      { type: 'url', url: urlLinkPayload.url, title: urlLinkPayload.title },
      { type: TYPE.Url, text: urlLinkPayload.url },
    )
    this.world.extras.set(id, urlLinkPayload)
    return id
  }

  async roomTopic (roomId, topic) {
    const room = this.world.rooms.get(roomId)
    if (!room) throw new Error(`unknown room ${roomId}`)
    if (topic === undefined) return room.topic
    changeTopic(this, room, topic, this.requireAccount().id, Date.now())
  }

  async roomAdd (roomId, contactId) {
    const room = this.world.rooms.get(roomId)
    if (!room) throw new Error(`unknown room ${roomId}`)
    addMembers(this, room, [this.world.contact(contactId)], this.requireAccount().id, Date.now())
  }

  async roomDel (roomId, contactId) {
    const room = this.world.rooms.get(roomId)
    if (!room) throw new Error(`unknown room ${roomId}`)
    const account = this.requireAccount()
    const ok = !room.owner || room.owner === account.id
    this.world.removals.push({ room: roomId, member: contactId, at: new Date().toISOString(), ok })
    if (!ok) {
      const details = `${account.id} is not the owner of ${roomId}: only its owner removes members`
      throw Object.assign(new Error(details), { code: 7, details }) // PERMISSION_DENIED
    }
    removeMembers(this, room, [contactId], account.id, Date.now())
  }
}

// ---------------------------------------------------------------- room changes (shared by API and client)

function addMembers (puppet, room, invitees, inviterId, timestamp) {
  for (const invitee of invitees) {
    if (room.members.includes(invitee.id)) throw conflict(`${invitee.id} is already in ${room.id}`)
  }
  for (const invitee of invitees) {
    puppet.world.remember(invitee)
    room.members.push(invitee.id)
    room.inviters.set(invitee.id, inviterId)
  }
  puppet.forget('room', room.id)
  puppet.emit('room-join', {
    inviteeIdList: invitees.map(i => i.id),
    inviterId,
    roomId: room.id,
    timestamp,
  })
}

function removeMembers (puppet, room, removeeIds, removerId, timestamp) {
  for (const id of removeeIds) puppet.world.requireMember(room, id)
  room.members = room.members.filter(id => !removeeIds.includes(id))
  for (const id of removeeIds) room.inviters.delete(id)
  puppet.forget('room', room.id)
  puppet.emit('room-leave', {
    removeeIdList: [...removeeIds],
    removerId,
    roomId: room.id,
    timestamp,
  })
}

function changeTopic (puppet, room, topic, changerId, timestamp) {
  const oldTopic = room.topic
  room.topic = topic
  puppet.forget('room', room.id)
  puppet.emit('room-topic', { changerId, newTopic: topic, oldTopic, roomId: room.id, timestamp })
}

// ---------------------------------------------------------------- control API

function controlRoutes (world, puppet) {
  /** Refuse to emit into the void unless asked to: a lost event makes a test flaky, not red. */
  const requireClient = body => {
    if (puppet.clients === 0 && body.force !== true) {
      throw conflict('no client is connected: the event would be lost (pass "force": true to emit anyway)')
    }
  }

  const health = () => ({
    ready: true,
    clients: puppet.clients,
    logged_in: puppet.isLoggedIn,
    started: puppet.started,
    account: world.account,
  })

  return {
    'GET /health': health,
    'GET /sent': () => world.sent,
    'GET /removals': () => world.removals,
    'GET /state': () => world.snapshot(),

    'POST /state': body => {
      world.restore(body)
      puppet.cache.clear()
      return world.snapshot()
    },

    'POST /login': async body => {
      const account = { id: requireString(body, 'id'), name: optionalString(body, 'name') ?? body.id }
      world.account = account
      world.remember(account)
      await puppet.applyLogin()
      return health()
    },

    'POST /logout': async body => {
      await puppet.logout(optionalString(body, 'reason') ?? 'logout by the test')
      return health()
    },

    'POST /room': body => {
      if (!world.account) throw conflict('POST /login first: a room needs the account as a member')
      const { id } = world.addRoom(body)
      return world.snapshot().rooms.find(room => room.id === id)
    },

    'POST /say': body => {
      const room = world.room(requireString(body, 'room'))
      const from = requireString(body, 'from')
      world.requireMember(room, from)
      const text = typeof body.text === 'string' ? body.text : ''
      const mentions = stringList(body, 'mentions', { required: false })
      requireClient(body)
      const id = puppet.deliver({
        id: `m_${randomUUID()}`,
        type: TYPE.Text,
        talkerId: from,
        roomId: room.id,
        text,
        mentionIdList: mentions,
        timestamp: timestampOf(body),
      })
      return { id }
    },

    'POST /picture': body => {
      const room = world.room(requireString(body, 'room'))
      const from = requireString(body, 'from')
      world.requireMember(room, from)
      const picture = requireString(body, 'base64')
      requireClient(body)
      const id = `m_${randomUUID()}`
      world.pictures.set(id, picture)
      puppet.deliver({
        id,
        type: TYPE.Image,
        talkerId: from,
        roomId: room.id,
        text: '',
        mentionIdList: [],
        timestamp: timestampOf(body),
      })
      return { id }
    },

    'POST /say-private': body => {
      const from = requireString(body, 'from')
      if (!world.account) throw conflict('POST /login first: a private message needs a listener')
      world.remember({ id: from, name: optionalString(body, 'name') ?? from })
      const text = typeof body.text === 'string' ? body.text : ''
      requireClient(body)
      const id = puppet.deliver({
        id: `m_${randomUUID()}`,
        type: TYPE.Text,
        talkerId: from,
        listenerId: world.account.id,
        text,
        timestamp: timestampOf(body),
      })
      return { id }
    },

    'POST /join': body => {
      const room = world.room(requireString(body, 'room'))
      const invitees = personList(body, 'invitees')
      if (invitees.length === 0) throw bad('"invitees" must not be empty')
      const inviter = requireString(body, 'inviter')
      world.contact(inviter)
      requireClient(body)
      addMembers(puppet, room, invitees, inviter, timestampOf(body))
      return { ok: true }
    },

    'POST /leave': body => {
      const room = world.room(requireString(body, 'room'))
      const members = stringList(body, 'members', { required: true })
      if (members.length === 0) throw bad('"members" must not be empty')
      const remover = optionalString(body, 'remover') ?? members[0] // left by themselves
      requireClient(body)
      removeMembers(puppet, room, members, remover, timestampOf(body))
      return { ok: true }
    },

    'POST /topic': body => {
      const room = world.room(requireString(body, 'room'))
      if (typeof body.topic !== 'string') throw bad('"topic" must be a string')
      const changer = requireString(body, 'changer')
      world.contact(changer)
      requireClient(body)
      changeTopic(puppet, room, body.topic, changer, timestampOf(body))
      return { ok: true }
    },

    'POST /heartbeat': body => {
      requireClient(body)
      puppet.emit('heartbeat', { data: optionalString(body, 'data') ?? 'heartbeat from the e2e peer' })
      return { ok: true }
    },
  }
}

function readJson (request) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    request.on('data', chunk => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'body too large'))
        request.destroy()
        return
      }
      chunks.push(chunk)
    })
    request.on('error', reject)
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim()
      if (!text) return resolve({})
      try {
        const body = JSON.parse(text)
        if (body === null || typeof body !== 'object' || Array.isArray(body)) {
          reject(bad('the body must be a JSON object'))
        } else {
          resolve(body)
        }
      } catch (e) {
        reject(bad(`invalid JSON: ${e.message}`))
      }
    })
  })
}

function controlServer (routes) {
  return http.createServer(async (request, response) => {
    const send = (status, value) => {
      const body = JSON.stringify(value)
      response.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      })
      response.end(body)
    }
    try {
      const path = new URL(request.url, `http://${HOST}`).pathname
      const route = routes[`${request.method} ${path}`]
      if (!route) throw notFound(`no route ${request.method} ${path}`)
      const body = request.method === 'POST' ? await readJson(request) : {}
      send(200, await route(body))
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500
      if (status === 500) console.error('control API error:', e)
      send(status, { error: e.message })
    }
  })
}

// ---------------------------------------------------------------- main

async function main () {
  const options = parseOptions(process.argv.slice(2), process.env)
  const grpcPort = options.grpcPort || await freePort()

  const world = new World()
  if (options.world) world.restore(JSON.parse(await readFile(options.world, 'utf8')))
  const puppet = new ScriptedPuppet(world)
  const grpcServer = new PuppetServer({
    endpoint: `${HOST}:${grpcPort}`,
    puppet,
    token: options.token,
    tls: { disable: true },
  })
  await grpcServer.start()

  const control = controlServer(controlRoutes(world, puppet))
  await new Promise((resolve, reject) => {
    control.once('error', reject)
    control.listen(options.controlPort, HOST, resolve)
  })

  let stopping = false
  const shutdown = async reason => {
    if (stopping) return
    stopping = true
    console.error(`e2e puppet server: stopping (${reason})`)
    control.closeAllConnections?.()
    control.close()
    try {
      await grpcServer.stop()
    } finally {
      process.exit(0)
    }
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  if (options.exitOnStdinEof) {
    // The parent holds our stdin open: EOF means it is gone, so do not outlive it.
    process.stdin.on('end', () => shutdown('stdin closed'))
    process.stdin.resume()
  }

  process.stdout.write(`READY grpc=${grpcPort} control=${control.address().port}\n`)
}

main().catch(e => {
  console.error('e2e puppet server failed to start:', e)
  process.exit(1)
})
