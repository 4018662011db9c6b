// Reference runner: executes HogVM bytecode on the published @posthog/hogvm package.
//
// stdin: a JSON array of programs. Each item is either a bytecode array or
//        {"bytecode": [...], "globals": {...}}.
// stdout: a JSON array with, per program,
//        {"result": <JSON value>, "result_repr": <Hog printed form>, "stdout": [lines], "error": <message|null>,
//         "error_type": <Hog error type or exception name|null>, "uncaught": <true for an uncaught Hog throw>}
import crypto from 'node:crypto'

import hogvm from '@posthog/hogvm'

const { exec, printHogValue } = hogvm

function splitFlags(regex) {
    // RE2-style leading inline flags such as (?i), (?-i) or (?ism) become JS RegExp flags.
    let flags = new Set()
    let body = String(regex)
    let m
    while ((m = /^\(\?([a-z]*)(?:-([a-z]*))?\)/.exec(body))) {
        for (const f of m[1]) flags.add(f)
        for (const f of m[2] ?? '') flags.delete(f)
        body = body.slice(m[0].length)
    }
    return new RegExp(body, [...flags].filter((f) => 'ims'.includes(f)).join(''))
}

const regex = {
    match: (pattern, value) => splitFlags(pattern).test(String(value)),
    extract: (pattern, value) => {
        const m = splitFlags(pattern).exec(String(value))
        if (!m) return ''
        return m.length > 1 ? (m[1] ?? '') : m[0]
    },
}

function toJSON(value) {
    if (value === undefined || value === null) return null
    if (typeof value === 'number') return Number.isFinite(value) ? value : printHogValue(value)
    if (typeof value === 'string' || typeof value === 'boolean') return value
    if (Array.isArray(value)) return value.map(toJSON)
    if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([k, v]) => [k, toJSON(v)]))
    if (value.__hogDateTime__ || value.__hogDate__ || value.__hogClosure__ || value.__hogCallable__) {
        return { __repr__: printHogValue(value) }
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJSON(v)]))
}

function failure(e, stdout) {
    // `uncaught` marks a Hog `throw` nobody caught (its type is the Hog error type); other errors are VM failures.
    const uncaught = e?.name === 'UncaughtHogVMException'
    const error_type = uncaught ? e.type : (e?.name ?? null)
    return { result: null, result_repr: null, stdout, error: String(e?.message ?? e), error_type, uncaught }
}

function runOne(item) {
    const bytecode = Array.isArray(item) ? item : item.bytecode
    const globals = Array.isArray(item) ? {} : (item.globals ?? {})
    const stdout = []
    const originalLog = console.log
    console.log = (...args) => stdout.push(args.join(' '))
    try {
        const res = exec(bytecode, { globals, timeout: 5000, external: { regex, crypto } })
        if (res.error) {
            const e = res.error
            return failure(e, stdout)
        }
        if (!res.finished) {
            return { result: null, result_repr: null, stdout, error: `async call: ${res.asyncFunctionName}`, error_type: 'Async' }
        }
        return { result: toJSON(res.result), result_repr: printHogValue(res.result ?? null), stdout, error: null, error_type: null }
    } catch (e) {
        return failure(e, stdout)
    } finally {
        console.log = originalLog
    }
}

let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => (input += chunk))
process.stdin.on('end', () => {
    const programs = JSON.parse(input)
    process.stdout.write(JSON.stringify(programs.map(runOne)))
})
