module.exports = ({ vars }) => `Translate: ${vars.text}`;
