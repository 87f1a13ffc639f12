"""Development mail goes to the mail folder as .eml files."""

from email import message_from_bytes

from forum.mailer import send_mail, sent_mail_files


def test_mail_without_server_is_written_to_the_folder(app):
    with app.app_context():
        before = len(sent_mail_files())
        send_mail("someone@example.org", "Hello there", "Plain text body", headers={"X-Test": "1"})
        files = sent_mail_files()
        assert len(files) == before + 1
        message = message_from_bytes(files[-1].read_bytes())
        assert message["To"] == "someone@example.org"
        assert message["Subject"] == "Hello there"
        assert message["X-Test"] == "1"
